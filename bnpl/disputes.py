"""Deciding a dispute: an order returned or not delivered (bnpl/order_tracking.py opened the inbox item).

While the dispute is open the order's collections and dunning are paused (bnpl/dispute_state.py).
Back office decides:

- `dispute_resume`: the goods are with the shopper after all (or the return was refused): the
  schedule continues as it was, collections and dunning resume;
- `dispute_cancel_refund`: the goods went back: the rest of the order is refunded through
  `orders.order_refund_locked` (a full refund cuts every open instalment: nothing more is
  collected) and the plan ends.

Each decision locks the order, closes the inbox item, is audited, tells the shopper
(`bnpl.dispute_decided`) and the merchant (webhook `order.dispute_decided`) in the same
transaction. A dispute decided already is refused (`ValidationError`, code `not_disputed`).
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from portal.audit.services import audit_record
from portal.inbox.services import work_item_close
from portal.notifications.services import notify

from .collection_permissions import can_manage_collections
from .dispute_state import DISPUTE_KIND, order_disputed
from .models import Order, WebhookEvent
from .orders import order_refund_locked
from .webhooks import order_webhook

RESUME = "resume"
CANCEL_REFUND = "cancel_refund"
NOTE_MAX = 500


def _locked(*, actor, order_id) -> Order:
    if not can_manage_collections(actor):
        raise PermissionDenied
    try:
        order = (
            Order.objects.select_for_update(of=("self",))
            .select_related("merchant", "shopper__user")
            .filter(pk=int(order_id))
            .first()
        )
    except (TypeError, ValueError):
        order = None
    if order is None:
        raise Http404
    if not order_disputed(order.pk):
        raise ValidationError(_("This order has no open dispute."), code="not_disputed")
    return order


def _note_clean(note: str) -> str:
    note = " ".join((note or "").split())
    if not note:
        raise ValidationError({"note": _("Say what was decided and why.")})
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": _("Write at most %(max)d characters.") % {"max": NOTE_MAX}})
    return note


def _tell(order: Order, decision: str) -> None:
    notify(
        user=order.shopper.user,
        event="bnpl.dispute_decided",
        context={"reference": order.reference, "shop": order.merchant.trading_name, "decision": decision},
    )
    order_webhook(order, WebhookEvent.ORDER_DISPUTE_DECIDED, extra={"decision": decision})


def dispute_resume(*, actor, order_id, note: str) -> Order:
    note = _note_clean(note)
    with transaction.atomic(durable=True):
        order = _locked(actor=actor, order_id=order_id)
        work_item_close(kind=DISPUTE_KIND, obj=order, state=gettext_noop("Resumed"))
        audit_record(action="bnpl.dispute_resumed", actor=actor, obj=order, changes={"decision": RESUME, "note": note})
        _tell(order, RESUME)
    return order


def dispute_cancel_refund(*, actor, order_id, note: str) -> Order:
    note = _note_clean(note)
    with transaction.atomic(durable=True):
        order = _locked(actor=actor, order_id=order_id)
        refundable = order.amount - order.refunded_amount
        if refundable > 0:
            order_refund_locked(actor=actor, order=order, amount=refundable, reason=note)
        work_item_close(kind=DISPUTE_KIND, obj=order, state=gettext_noop("Cancelled with refund"))
        audit_record(
            action="bnpl.dispute_cancelled",
            actor=actor,
            obj=order,
            changes={"decision": CANCEL_REFUND, "refunded": str(refundable), "note": note},
        )
        _tell(order, CANCEL_REFUND)
    return order
