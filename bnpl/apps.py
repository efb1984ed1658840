from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BnplConfig(AppConfig):
    """Buy now, pay later: merchants and their checkout API, credit decisions, instalment plans,
    collections, fees and shipment tracking (seed 001)."""

    name = "bnpl"
    label = "bnpl"
    verbose_name = _("Buy now, pay later")

    def ready(self):
        from django.db.models.signals import post_migrate

        from portal.api.scopes import register_scope_group
        from portal.audit.actions import register_actions
        from portal.core.demo import DemoStep, register_step

        from . import permissions  # noqa: F401  (registers the policies)
        from .demo import demo_step
        from .roles import staff_permissions_grant

        register_scope_group(
            "bnpl",
            _("Buy now, pay later"),
            description=_("Payment sessions and orders of your shop (/api/v1/bnpl/)"),
            order=40,
        )
        register_actions(
            {
                "bnpl.merchant_created": _("BNPL merchant set up"),
                "bnpl.webhook_secret_rotated": _("BNPL webhook secret replaced"),
                "bnpl.shopper_created": _("BNPL shopper profile created"),
                "bnpl.session_created": _("BNPL payment session opened"),
                "bnpl.fee_charged": _("BNPL fee charged"),
                "bnpl.fee_status_changed": _("BNPL fee status changed"),
                "bnpl.fee_schedule_created": _("BNPL fee schedule added"),
                "bnpl.fee_status_rule_created": _("BNPL fee status rule added"),
                "bnpl.customer_group_created": _("BNPL customer group added"),
                "bnpl.shopper_group_set": _("BNPL shopper's customer group changed"),
            }
        )
        register_step(DemoStep(name="bnpl: merchants, a shopper, payment sessions", run=demo_step, order=60))
        from portal.accounts.roles import Role
        from portal.core.navigation import NavItem, register

        from . import fees_permissions, fees_tasks  # noqa: F401  (the fee module's policies and beat task)
        from .fees_demo import fees_demo_step

        register_step(
            DemoStep(name="bnpl: fee schedules, a customer group, status rules", run=fees_demo_step, order=61)
        )
        from portal.notifications.registry import EMAIL, IN_APP, register_event

        register_event(
            "bnpl.fee_charged",
            _("A fee was charged"),
            default_channels=frozenset({IN_APP, EMAIL}),
            description=_("A late or dunning fee was charged on an instalment of yours."),
            roles=frozenset({Role.CLIENT}),
        )
        register(NavItem(label=_("Fees"), url_name="bnpl:fees", roles=frozenset({Role.BACKOFFICE}), order=93))
        post_migrate.connect(staff_permissions_grant, sender=self, dispatch_uid="bnpl.staff_permissions")
