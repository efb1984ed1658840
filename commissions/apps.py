from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommissionsConfig(AppConfig):
    name = "commissions"
    verbose_name = _("Commissions")

    def ready(self):
        from django.db.models.signals import post_migrate

        from portal.accounts.roles import Role
        from portal.api.scopes import register_scope_group
        from portal.approvals.events import approval_decided
        from portal.approvals.registry import register_approval_kind
        from portal.audit.actions import register_actions
        from portal.core.demo import DemoStep, register_step
        from portal.core.navigation import NavItem, register
        from portal.core.providers import provide
        from portal.notifications.registry import EMAIL, IN_APP, register_event

        from . import evidence, permissions  # noqa: F401  (permissions registers this app's policies)
        from .demo import demo_step
        from .models import Statement
        from .permissions import READER_ROLES
        from .roles import backoffice_permissions_grant
        from .selectors import accruals_for_disclosure
        from .services import STATEMENT_KIND, statement_decided, statement_describe

        provide("commissions.disclosure", accruals_for_disclosure)

        register(
            NavItem(
                label=_("Commissions"),
                url_name="commissions:statement-list",
                roles=frozenset(READER_ROLES),
                order=20,
            )
        )
        # Four eyes on every statement: another back-office person, with a verified second factor.
        register_approval_kind(
            STATEMENT_KIND,
            model=Statement,
            label=_("Commission statement"),
            approver_roles={Role.BACKOFFICE},
            second_factor=True,
            describe=statement_describe,
            maker_of=lambda statement: statement.prepared_by,
            # A month's close prepares one statement per person: back office finds them in the work
            # inbox (and its counter), not in one e-mail per statement.
            alert_users=lambda approval: (),
            inbox_count_label=_("Commission statements to approve"),
            inbox_count_second_factor_for=_("Approving a commission statement"),
        )
        approval_decided.connect(statement_decided, dispatch_uid="commissions.statement_decided")
        register_actions(
            {
                "commissions.month_closing": _("Commission month closing"),
                "commissions.month_closed": _("Commission month closed"),
                "commissions.statement_prepared": _("Commission statement prepared"),
                "commissions.statement_approved": _("Commission statement approved"),
                "commissions.statement_rejected": _("Commission statement rejected"),
                "commissions.statement_resubmitted": _("Commission statement prepared again"),
                "commissions.statement_paid": _("Commission statement marked paid"),
            }
        )
        register_scope_group(
            "commissions",
            _("Commissions"),
            description=_("Monthly statements, entries with their sources, statement PDFs"),
            order=20,
        )
        register_event(
            "commissions.statement_ready",
            _("Commission statement ready"),
            default_channels={IN_APP, EMAIL},
            description=_("When back office has prepared your monthly commission statement."),
            roles={Role.INTERMEDIARY, Role.FIRM_MANAGER},
        )
        register_step(DemoStep(name="commissions: plans, accruals, statements", run=demo_step, order=30))
        evidence.register()  # the evidence pack of a statement (portal/evidence)
        post_migrate.connect(
            backoffice_permissions_grant, sender=self, dispatch_uid="commissions.backoffice_permissions"
        )
