"""What a carrier's status means for the order it carries (receiver of `bnpl.events.shipment_status_changed`).

The order is found by carrier and tracking number; its `tracking_status` follows the carrier, except
that a final status (delivered, returned, failed) is not overwritten by a late "in transit" scan.
The shopper is told when the parcel is in transit, delivered or returned; a return or a failed
delivery opens a dispute item (`bnpl.dispute`) in the back office's work inbox. The receiver runs
inside the transaction that stored the carrier's event, so its writes stand or fall with it.
"""

from django.urls import reverse
from django.utils.translation import gettext_noop

from portal.audit.services import audit_record
from portal.inbox.services import work_item_open
from portal.notifications.services import notify

from .dispute_state import DISPUTE_KIND
from .models import Order, TrackingState

FINAL = frozenset({TrackingState.DELIVERED, TrackingState.RETURNED, TrackingState.FAILURE})
TOLD = frozenset({TrackingState.IN_TRANSIT, TrackingState.DELIVERED, TrackingState.RETURNED})
DISPUTED = frozenset({TrackingState.RETURNED, TrackingState.FAILURE})


def on_shipment_status_changed(sender, carrier, tracking_number, status, status_date, event=None, **kwargs) -> None:
    for order in (
        Order.objects.select_for_update(of=("self",))
        .select_related("shopper__user", "merchant")
        .filter(carrier=carrier, tracking_number=tracking_number)
    ):
        order_tracking_status_set(order=order, status=status, status_date=status_date, event=event)


def order_tracking_status_set(*, order: Order, status: str, status_date=None, event=None) -> bool:
    """Store the carrier's status on the order, tell the shopper, open a dispute; False if it changed nothing."""
    if status == order.tracking_status or (order.tracking_status in FINAL and status not in FINAL):
        return False
    before = order.tracking_status
    order.tracking_status = status
    order.save(update_fields=["tracking_status", "updated_at"])
    audit_record(
        action="bnpl.order_tracking_updated",
        obj=order,
        changes={"tracking_status": [before, status], "status_date": status_date.isoformat() if status_date else ""},
    )
    if status in TOLD:
        notify(
            user=order.shopper.user,
            event="bnpl.shipment_status",
            context={"reference": order.reference, "shop": order.merchant.trading_name, "status": status},
            idempotency_key=f"bnpl-shipment:{order.pk}:{status}",
        )
    if status in DISPUTED:
        work_item_open(
            kind=DISPUTE_KIND,
            obj=order,
            subject=f"{order.reference} · {order.merchant.trading_name}",
            party=order.shopper.user.get_full_name() or order.shopper.user.email,
            url=reverse("bnpl:dispute", args=[order.pk]),
            state=gettext_noop("Returned") if status == TrackingState.RETURNED else gettext_noop("Delivery failed"),
            opened_at=status_date,
        )
    return True
