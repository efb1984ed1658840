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
                "bnpl.order_captured": _("BNPL order captured"),
                "bnpl.order_shipped": _("BNPL order shipped, plan started"),
                "bnpl.order_cancelled": _("BNPL order cancelled"),
                "bnpl.order_refunded": _("BNPL order refunded"),
                "bnpl.order_tracking_updated": _("BNPL order's shipment status changed"),
            }
        )
        register_step(DemoStep(name="bnpl: merchants, a shopper, payment sessions", run=demo_step, order=60))
        post_migrate.connect(staff_permissions_grant, sender=self, dispatch_uid="bnpl.staff_permissions")
        self._orders_ready()

    def _orders_ready(self):
        """The order lifecycle (bnpl/orders.py): its messages, its inbox kind and the carrier's statuses."""
        from portal.accounts.roles import Role
        from portal.inbox.registry import register_inbox_kind
        from portal.notifications.registry import EMAIL, IN_APP, register_event

        from .events import shipment_status_changed
        from .order_tracking import DISPUTE_KIND, on_shipment_status_changed

        register_event(
            "bnpl.schedule_ready",
            _("Payment schedule of a shipped order"),
            default_channels={IN_APP, EMAIL},
            description=_("When a shop ships your order and your instalments start."),
        )
        register_event(
            "bnpl.refund_issued",
            _("Refund of an order"),
            default_channels={IN_APP, EMAIL},
            description=_("When a shop refunds your order and your schedule changes."),
        )
        register_event(
            "bnpl.shipment_status",
            _("Shipment of an order"),
            default_channels={IN_APP, EMAIL},
            description=_("When your order is on its way, delivered or returned."),
        )
        register_inbox_kind(
            DISPUTE_KIND,
            label=_("Returned or undelivered order"),
            roles={Role.BACKOFFICE},
            order=60,
            count_label=_("Order disputes open"),
            count_order=60,
        )
        shipment_status_changed.connect(on_shipment_status_changed, dispatch_uid="bnpl-orders-shipment")
