"""An order's instalment plan: written from the pricing at shipment, cut down by refunds, cancelled.

These helpers run inside the order services' transaction (bnpl/orders.py), with the order locked;
they write rows and return what changed, and audit nothing themselves.

The refund rule: a partial refund of R comes off what is still owed, from the last instalment
backwards. Each open instalment (due, overdue, partly paid or returned, with `amount - paid_amount`
still open) gives up as much of its open part as is left of R, principal first and then
interest; an instalment cut down to what was already paid on it is settled: `paid` if something
was paid on it, `cancelled` if nothing was. The plan's total payable falls by what was cut. A
refund larger than everything still owed (the shopper paid ahead) cuts all that is owed; the rest
is money the merchant's refund returns to the shopper, reported as `excess`. A full refund (the
order's whole amount refunded) ends the credit: every open instalment is cut to its paid amount,
interest included, so nothing further is collected.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError

from . import pricing
from .models import Instalment, Order, Plan

OPEN_STATES = (
    Instalment.State.DUE,
    Instalment.State.OVERDUE,
    Instalment.State.PARTLY_PAID,
    Instalment.State.RETURNED,
)


def plan_start(*, order: Order, start: date) -> Plan:
    """The order's plan priced from `start` (the shipment date) and active, with one row per instalment.

    A plan made at checkout (waiting for shipment) is repriced in place: its instalments get their
    due dates and the schedule's amounts; a missing plan or missing instalments are created.
    """
    try:
        option = pricing.payment_option(key=order.option_key, amount=order.amount, currency=order.currency, start=start)
    except pricing.PricingError as exc:
        raise ValidationError({"option_key": ValidationError(str(exc), code="option_not_offered")}) from None
    plan = Plan.objects.filter(order=order).first() or Plan(order=order)
    plan.option_key = option.key
    plan.nominal_rate = option.nominal_rate
    plan.apr = option.apr
    plan.total_payable = option.total_payable
    plan.total_cost_of_credit = option.total_cost_of_credit
    plan.currency = option.currency
    plan.state = Plan.State.ACTIVE
    plan.start_date = start
    plan.save()
    existing = {row.number: row for row in Instalment.objects.filter(plan=plan)}
    changed, created = [], []
    for payment in option.schedule:
        row = existing.pop(payment.number, None) or Instalment(plan=plan, number=payment.number)
        row.due_date = payment.due_date
        row.amount, row.principal, row.interest = payment.amount, payment.principal, payment.interest
        row.state = Instalment.State.DUE
        (changed if row.pk else created).append(row)
    if changed:
        Instalment.objects.bulk_update(changed, ["due_date", "amount", "principal", "interest", "state"])
    if created:
        Instalment.objects.bulk_create(created)
    if existing:  # a plan priced with more instalments at checkout than now: the extras never fall due
        Instalment.objects.filter(pk__in=[row.pk for row in existing.values()]).update(
            state=Instalment.State.CANCELLED, amount=0, principal=0, interest=0
        )
    return plan


def plan_cancel(*, order: Order) -> Plan | None:
    """The order's plan (if any) cancelled with every instalment not paid; None without a plan."""
    plan = Plan.objects.filter(order=order).first()
    if plan is None:
        return None
    plan.state = Plan.State.CANCELLED
    plan.save(update_fields=["state"])
    plan.instalments.exclude(state=Instalment.State.PAID).update(state=Instalment.State.CANCELLED)
    return plan


@dataclass(frozen=True)
class RefundEffect:
    reduced: Decimal  # how much less the shopper owes
    excess: Decimal  # what was refunded beyond what was owed (the shopper paid ahead)
    cut: dict  # instalment number -> amount taken off it


def plan_refund(*, order: Order, amount: Decimal, full: bool) -> RefundEffect:
    """Cut the plan's open instalments by `amount` from the last backwards (module docstring)."""
    plan = Plan.objects.filter(order=order).first()
    zero = Decimal(0)
    if plan is None:
        return RefundEffect(reduced=zero, excess=amount, cut={})
    rows = list(plan.instalments.filter(state__in=OPEN_STATES).order_by("-number"))
    left = amount
    cut: dict[int, Decimal] = {}
    for row in rows:
        open_part = row.amount - row.paid_amount
        take = open_part if full else min(open_part, left)
        if take <= 0:
            continue
        from_principal = min(row.principal, take)
        row.principal -= from_principal
        row.interest -= take - from_principal
        row.amount -= take
        if row.amount <= row.paid_amount:
            row.state = Instalment.State.PAID if row.paid_amount > 0 else Instalment.State.CANCELLED
        cut[row.number] = take
        left -= take
        if not full and left <= 0:
            break
    if rows:
        Instalment.objects.bulk_update(rows, ["amount", "principal", "interest", "state"])
    reduced = sum(cut.values(), zero)
    plan.total_payable -= reduced
    if not plan.instalments.filter(state__in=OPEN_STATES).exists():
        paid_any = plan.instalments.filter(paid_amount__gt=0).exists()
        plan.state = Plan.State.COMPLETED if paid_any else Plan.State.CANCELLED
    plan.save(update_fields=["total_payable", "state"])
    return RefundEffect(reduced=reduced, excess=max(amount - reduced, zero), cut=cut)


def schedule_rows(plan: Plan) -> list[dict]:
    """The plan's instalments as plain values for a notification or the PDF (cancelled ones left out)."""
    return [
        {"number": row.number, "due_date": row.due_date, "amount": row.amount, "state": row.state}
        for row in plan.instalments.order_by("number")
        if row.state != Instalment.State.CANCELLED
    ]
