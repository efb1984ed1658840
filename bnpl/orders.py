"""The order lifecycle a merchant drives: capture, ship, cancel, refund.

    approved ──capture──▶ captured ──ship──▶ shipped ──refund──▶ partly_refunded ──refund──▶ refunded
    pending_decision / in_review / approved / captured ──cancel──▶ cancelled

Each service locks the order (`select_for_update`), checks the state and the input, writes, and
appends its audit event in one durable transaction; a refusal raises ValidationError with a code
(`{"state": [... code="already_shipped"]}`, `{"amount": [... code="over_refundable"]}`) and writes
nothing. Only the merchant's people operate an order (the Order policy's "operate" action): another
merchant's order is Http404, an order the actor may only read is PermissionDenied.

Shipping starts the plan (due dates count from the shipment date, bnpl/order_schedule.py), tells
the shopper with the schedule (event `bnpl.schedule_ready`, the schedule's PDF attached to the
e-mail and linked) and, after
the commit, registers the parcel for tracking (task `bnpl.tasks.order_tracking_register`).
Refunds cut the schedule (the rule is in bnpl/order_schedule.py) and tell the shopper.
"""

import logging
from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.audit.services import audit_record
from portal.notifications.services import notify

from . import order_schedule, tracking
from .models import Order, WebhookEvent
from .money import money_round
from .schedule_pdf import schedule_attachment
from .webhooks import order_webhook

logger = logging.getLogger(__name__)

State = Order.State
CANCELLABLE = (State.PENDING_DECISION, State.IN_REVIEW, State.APPROVED, State.CAPTURED)
REFUNDABLE = (State.SHIPPED, State.PARTLY_REFUNDED)
REASON_MAX = 500
# A shipment date may lie this far ahead of the server's clock (clocks of shops differ a little).
SHIP_CLOCK_SKEW = timedelta(minutes=5)


def _refuse(field: str, message: str, code: str):
    raise ValidationError({field: ValidationError(message, code=code)})


def _locked_order(*, actor, order_id) -> Order:
    """The order, locked, if the actor may operate it; 404 if they may not see it, 403 if only see it."""
    try:
        order_id = int(order_id)
    except (TypeError, ValueError):
        raise Http404 from None
    order = (
        Order.objects.restrict(actor, "operate")
        .select_for_update(of=("self",))
        .select_related("merchant", "shopper__user")
        .filter(pk=order_id)
        .first()
    )
    if order is None:
        if Order.objects.restrict(actor).filter(pk=order_id).exists():
            raise PermissionDenied(_("Only the shop's people can change its orders."))
        raise Http404
    return order


def _reason_clean(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        _refuse("reason", _("Give the reason in at most %(max)d characters.") % {"max": REASON_MAX}, "max_length")
    return reason


def _amount_check(amount, currency: str, field: str = "amount") -> Decimal:
    if not isinstance(amount, Decimal) or not amount.is_finite():
        _refuse(field, _("Give the amount as a decimal number."), "invalid")
    if amount <= 0:
        _refuse(field, _("The amount must be more than zero."), "not_positive")
    if amount != money_round(amount, currency):
        _refuse(field, _("The amount has more decimal places than its currency."), "precision")
    return amount


def _schedule_link(plan) -> str:
    return reverse("bnpl:plan-schedule-pdf", args=[plan.pk])


# --- capture ---------------------------------------------------------------------------------------


def order_capture(*, actor, order_id, amount: Decimal | None = None) -> Order:
    """An approved order captured: the shop confirms the sale for the whole amount.

    `amount`, if given, must be the order's amount (a partial capture is not offered: cancel and
    place a smaller order instead). Refusals: `not_approved` (pending, in review, declined),
    `already_captured` (captured, shipped or refunded), `cancelled`, `capture_amount`.
    """
    with transaction.atomic(durable=True):
        order = _locked_order(actor=actor, order_id=order_id)
        if order.state == State.CANCELLED:
            _refuse("state", _("The order was cancelled."), "cancelled")
        if order.state in (State.CAPTURED, State.SHIPPED, State.PARTLY_REFUNDED, State.REFUNDED):
            _refuse("state", _("The order is captured already."), "already_captured")
        if order.state != State.APPROVED:
            _refuse("state", _("Only an approved order can be captured."), "not_approved")
        if amount is not None:
            _amount_check(amount, order.currency)
            if amount != order.amount:
                _refuse(
                    "amount",
                    _("Capture the whole amount of %(amount)s %(currency)s; partial captures are not offered.")
                    % {"amount": order.amount, "currency": order.currency},
                    "capture_amount",
                )
        order.state = State.CAPTURED
        order.save(update_fields=["state", "updated_at"])
        order_webhook(order, WebhookEvent.ORDER_CAPTURED)
        audit_record(
            action="bnpl.order_captured",
            actor=actor,
            obj=order,
            changes={"state": [State.APPROVED, State.CAPTURED], "amount": str(order.amount)},
        )
    return order


# --- ship ------------------------------------------------------------------------------------------


def order_ship(*, actor, order_id, carrier: str, tracking_number: str, shipped_at=None) -> Order:
    """A captured order shipped: the plan starts on the shipment date and the shopper gets the schedule.

    `shipped_at` (aware; default now) may not lie in the future. The carrier is one of Shippo's
    tokens (bnpl.tracking.CARRIERS). Refusals: `not_captured`, `already_shipped`, `cancelled`,
    `unknown_carrier`, `future`, and the tracking number's own.
    """
    carrier, number = tracking.tracking_clean(carrier=carrier, tracking_number=tracking_number)
    now = timezone.now()
    shipped_at = shipped_at or now
    if timezone.is_naive(shipped_at):
        _refuse("shipped_at", _("Give the shipment time with its time zone."), "naive")
    if shipped_at > now + SHIP_CLOCK_SKEW:
        _refuse("shipped_at", _("The shipment time lies in the future."), "future")
    with transaction.atomic(durable=True):
        order = _locked_order(actor=actor, order_id=order_id)
        if order.state in (State.SHIPPED, State.PARTLY_REFUNDED, State.REFUNDED):
            _refuse("state", _("The order is shipped already."), "already_shipped")
        if order.state == State.CANCELLED:
            _refuse("state", _("The order was cancelled."), "cancelled")
        if order.state != State.CAPTURED:
            _refuse("state", _("Capture the order before shipping it."), "not_captured")
        shipped_date = timezone.localdate(shipped_at)
        plan = order_schedule.plan_start(order=order, start=shipped_date)
        order.state = State.SHIPPED
        order.shipped_at, order.carrier, order.tracking_number = shipped_at, carrier, number
        order.save(update_fields=["state", "shipped_at", "carrier", "tracking_number", "updated_at"])
        order_webhook(order, WebhookEvent.ORDER_SHIPPED)
        audit_record(
            action="bnpl.order_shipped",
            actor=actor,
            obj=order,
            changes={
                "state": [State.CAPTURED, State.SHIPPED],
                "carrier": carrier,
                "tracking_number": number,
                "start_date": shipped_date.isoformat(),
            },
        )
        notify(
            user=order.shopper.user,
            event="bnpl.schedule_ready",
            context={
                "reference": order.reference,
                "shop": order.merchant.trading_name,
                "schedule": order_schedule.schedule_rows(plan),
                "total_payable": plan.total_payable,
                "apr": plan.apr,
                "currency": plan.currency,
            },
            link=_schedule_link(plan),
            idempotency_key=f"bnpl-schedule-ready:{order.pk}",
            attachments=[schedule_attachment(plan)],
        )
        order_id = order.pk
        transaction.on_commit(lambda: tracking_register_later(order_id))
    order.plan = plan
    return order


def tracking_register_later(order_id: int) -> None:
    """Queue the parcel's registration with the carrier; a broker that is away is logged, never raised.

    The shipment stands either way: the task retries, and `orders_tracking_sweep` catches what was
    never queued.
    """
    from .tasks import order_tracking_register

    try:
        order_tracking_register.delay(order_id)
    except Exception:  # the broker is away; the sweep registers it later
        logger.warning("Could not queue tracking registration of order %s.", order_id, exc_info=True)


def order_tracking_register(*, order_id: int) -> bool:
    """Register a shipped order's parcel with the carrier; True if it is registered (now or before).

    Idempotent: `tracking.tracking_register` asks the carrier once per number. An order not shipped
    (or without a number) registers nothing. Carrier errors propagate: TrackingUnavailable (a
    ConnectionError) is retried by the task; a refused number is logged and not retried.
    """
    order = Order.objects.filter(pk=order_id).only("pk", "carrier", "tracking_number", "state").first()
    if order is None or not order.tracking_number or order.state not in (State.SHIPPED, *REFUNDABLE, State.REFUNDED):
        return False
    try:
        tracking.tracking_register(
            carrier=order.carrier, tracking_number=order.tracking_number, metadata=f"order:{order.pk}"
        )
    except (ValidationError, tracking.TrackingRefused):
        logger.exception("The carrier refused to track order %s's parcel.", order.pk)
        return False
    return True


# --- cancel ----------------------------------------------------------------------------------------


def order_cancel(*, actor, order_id, reason: str = "") -> Order:
    """An order not yet shipped cancelled, with its plan. Refusals: `already_shipped` (refund it
    instead), `not_cancellable` (declined, cancelled or refunded already)."""
    reason = _reason_clean(reason)
    with transaction.atomic(durable=True):
        order = _locked_order(actor=actor, order_id=order_id)
        if order.state in REFUNDABLE:
            _refuse("state", _("The order is shipped; refund it instead."), "already_shipped")
        if order.state not in CANCELLABLE:
            _refuse("state", _("This order can no longer be cancelled."), "not_cancellable")
        before = order.state
        order.state = State.CANCELLED
        order.save(update_fields=["state", "updated_at"])
        plan = order_schedule.plan_cancel(order=order)
        order_webhook(order, WebhookEvent.ORDER_CANCELLED)
        audit_record(
            action="bnpl.order_cancelled",
            actor=actor,
            obj=order,
            changes={"state": [before, State.CANCELLED], "reason": reason, "plan_cancelled": plan is not None},
        )
    return order


# --- refund ----------------------------------------------------------------------------------------


def order_refund(*, actor, order_id, amount: Decimal, reason: str = "") -> Order:
    """Part or all of a shipped order refunded; the plan is cut (bnpl/order_schedule.py) and the shopper told.

    The refunded total never exceeds the amount: the order row is locked while it is checked and
    raised. Refusals: `not_shipped` (cancel instead), `not_refundable` (cancelled, declined, refunded
    in full), `not_positive`, `precision`, `over_refundable`.
    """
    reason = _reason_clean(reason)
    with transaction.atomic(durable=True):
        order = _locked_order(actor=actor, order_id=order_id)
        order_refund_locked(actor=actor, order=order, amount=amount, reason=reason)
    return order


def order_refund_locked(*, actor, order: Order, amount: Decimal, reason: str = "") -> Order:
    """The refund itself, for a caller that holds the order's row lock inside its transaction and
    has decided the actor may refund (the merchant through `order_refund`, back office deciding a
    dispute through bnpl/disputes.py). Same checks and refusals as `order_refund`."""
    reason = _reason_clean(reason)
    if order.state in (State.APPROVED, State.CAPTURED, State.PENDING_DECISION, State.IN_REVIEW):
        _refuse("state", _("The order is not shipped; cancel it instead."), "not_shipped")
    if order.state not in REFUNDABLE:
        _refuse("state", _("This order cannot be refunded."), "not_refundable")
    _amount_check(amount, order.currency)
    refundable = order.amount - order.refunded_amount
    if amount > refundable:
        _refuse(
            "amount",
            _("At most %(refundable)s %(currency)s can still be refunded.")
            % {"refundable": refundable, "currency": order.currency},
            "over_refundable",
        )
    before = order.state
    order.refunded_amount += amount
    full = order.refunded_amount == order.amount
    order.state = State.REFUNDED if full else State.PARTLY_REFUNDED
    order.save(update_fields=["refunded_amount", "state", "updated_at"])
    effect = order_schedule.plan_refund(order=order, amount=amount, full=full)
    order_webhook(order, WebhookEvent.ORDER_REFUNDED)
    audit_record(
        action="bnpl.order_refunded",
        actor=actor,
        obj=order,
        changes={
            "state": [before, order.state],
            "amount": str(amount),
            "refunded_amount": str(order.refunded_amount),
            "schedule_reduced": str(effect.reduced),
            "excess": str(effect.excess),
            "reason": reason,
        },
    )
    plan = getattr(order, "plan", None)
    notify(
        user=order.shopper.user,
        event="bnpl.refund_issued",
        context={
            "reference": order.reference,
            "shop": order.merchant.trading_name,
            "amount": amount,
            "currency": order.currency,
            "full": full,
            "schedule": order_schedule.schedule_rows(plan) if plan else [],
            "total_payable": plan.total_payable if plan else Decimal(0),
        },
        link=_schedule_link(plan) if plan else "",
    )
    return order


def orders_tracking_unregistered(limit: int = 500) -> list[int]:
    """Ids of shipped orders whose parcel no carrier registration knows (oldest first)."""
    from django.db.models import Exists, OuterRef

    from .models import TrackedShipment

    registered = TrackedShipment.objects.filter(
        carrier=OuterRef("carrier"), tracking_number=OuterRef("tracking_number")
    )
    return list(
        Order.objects.filter(state__in=(State.SHIPPED, *REFUNDABLE, State.REFUNDED))
        .exclude(tracking_number="")
        .filter(~Exists(registered))
        .order_by("shipped_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
