from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommissionsConfig(AppConfig):
    name = "commissions"
    verbose_name = _("Commissions")

    def ready(self):
        from django.db.models.signals import post_migrate

        from portal.accounts.roles import Role
        from portal.api.scopes import register_scope_group
        from portal.core.demo import DemoStep, register_step
        from portal.core.navigation import NavItem, register
        from portal.core.providers import provide
        from portal.notifications.registry import EMAIL, IN_APP, register_event

        from . import permissions  # noqa: F401  (registers this app's policies)
        from .demo import demo_step
        from .roles import backoffice_permissions_grant
        from .selectors import accruals_for_disclosure

        provide("commissions.disclosure", accruals_for_disclosure)

        register(
            NavItem(
                label=_("Commissions"),
                url_name="commissions:statement-list",
                roles=frozenset({Role.INTERMEDIARY, Role.FIRM_MANAGER}),
                order=20,
            )
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
        post_migrate.connect(
            backoffice_permissions_grant, sender=self, dispatch_uid="commissions.backoffice_permissions"
        )
