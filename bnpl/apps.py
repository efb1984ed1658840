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

        from portal.accounts.roles import Role
        from portal.api.scopes import register_scope_group
        from portal.audit.actions import register_actions
        from portal.core.demo import DemoStep, register_step
        from portal.core.navigation import NavItem, register

        from . import permissions  # noqa: F401  (registers the policies)
        from .demo import demo_step
        from .events import shipment_status_changed
        from .roles import staff_permissions_grant
        from .webhook_tasks import deliver_webhook  # noqa: F401  (the worker finds the webhook tasks)
        from .webhooks import on_shipment_status_changed

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
                "bnpl.webhook_resent": _("BNPL webhook sent again"),
                "bnpl.webhook_url_changed": _("BNPL webhook URL changed"),
            }
        )
        register(
            NavItem(
                label=_("Shop dashboard"),
                url_name="bnpl:merchant-orders",
                roles=frozenset({Role.MERCHANT}),
                order=5,
                active_for=frozenset({"bnpl:merchant-webhooks", "bnpl:merchant-settings"}),
            )
        )
        shipment_status_changed.connect(on_shipment_status_changed, dispatch_uid="bnpl-webhooks-shipment")
        register_step(DemoStep(name="bnpl: merchants, a shopper, payment sessions", run=demo_step, order=60))
        post_migrate.connect(staff_permissions_grant, sender=self, dispatch_uid="bnpl.staff_permissions")
