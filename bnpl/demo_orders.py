"""Demo orders of Delta Shop for client2, one in every state of the lifecycle (bnpl/orders.py).

The orders are written as a shop's checkout would have left them (approved, with their lines);
capture, ship, cancel and refund then go through the services, so the shipped and refunded ones
have their plan, due dates from the shipment date and the shopper's schedule e-mail. Running it
again changes nothing: an order whose reference exists is left alone.
"""

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from . import orders
from .models import Merchant, Order, OrderLine, Shopper

# reference, the state to reach, option, lines (name, quantity, unit price, tax rate)
ORDERS = [
    ("DELTA-2001", "pending_decision", "pay_in_4", [("Milk frother", 1, "59.00", "19.00")]),
    ("DELTA-2002", "approved", "pay_in_4", [("Grinder", 1, "149.00", "19.00")]),
    ("DELTA-2003", "captured", "monthly_3", [("Espresso cups (6)", 2, "64.50", "19.00")]),
    ("DELTA-2004", "shipped", "monthly_6", [("Espresso machine", 1, "549.00", "19.00")]),
    ("DELTA-2005", "cancelled", "pay_in_4", [("Tamper", 1, "39.90", "19.00")]),
    ("DELTA-2006", "refunded", "pay_in_4", [("Travel mug", 2, "24.50", "19.00")]),
    ("DELTA-2007", "partly_refunded", "pay_in_4", [("Scale", 1, "89.00", "19.00"), ("Filters", 3, "4.00", "7.00")]),
]
CARRIER = "dhl_germany"


def demo_orders_ensure(*, merchant_user, shopper_user) -> int:
    """Create the missing demo orders; returns how many were made."""
    merchant = Merchant.objects.filter(organisation_id=merchant_user.organisation_id).first()
    shopper = Shopper.objects.filter(user=shopper_user).first()
    if merchant is None or shopper is None:
        return 0
    made = 0
    for number, (reference, goal, option, lines) in enumerate(ORDERS, start=1):
        if Order.objects.filter(merchant=merchant, reference=reference).exists():
            continue
        order = _placed(merchant, shopper, reference, goal, option, lines, days_ago=10 - number)
        _drive(merchant_user, order, goal, tracking_number=f"00340434161094{2000 + number:06d}")
        made += 1
    return made


def _placed(merchant, shopper, reference, goal, option, lines, *, days_ago: int) -> Order:
    amount = sum((quantity * Decimal(price) for _, quantity, price, _ in lines), Decimal(0))
    state = Order.State.PENDING_DECISION if goal == "pending_decision" else Order.State.APPROVED
    with transaction.atomic():
        order = Order.objects.create(
            merchant=merchant,
            shopper=shopper,
            reference=reference,
            amount=amount,
            currency="EUR",
            option_key=option,
            state=state,
            created_at=timezone.now() - timedelta(days=days_ago),
        )
        OrderLine.objects.bulk_create(
            [
                OrderLine(
                    order=order,
                    position=position,
                    name=name,
                    quantity=quantity,
                    unit_price=Decimal(price),
                    tax_rate=Decimal(tax),
                    line_total=quantity * Decimal(price),
                )
                for position, (name, quantity, price, tax) in enumerate(lines, start=1)
            ]
        )
    return order


def _drive(actor, order: Order, goal: str, *, tracking_number: str) -> None:
    if goal in ("pending_decision", "approved"):
        return
    if goal == "cancelled":
        orders.order_cancel(actor=actor, order_id=order.pk, reason="Demo: the shopper changed their mind")
        return
    orders.order_capture(actor=actor, order_id=order.pk)
    if goal == "captured":
        return
    orders.order_ship(
        actor=actor,
        order_id=order.pk,
        carrier=CARRIER,
        tracking_number=tracking_number,
        shipped_at=timezone.now() - timedelta(days=3),
    )
    if goal == "refunded":
        orders.order_refund(actor=actor, order_id=order.pk, amount=order.amount, reason="Demo: returned unused")
    elif goal == "partly_refunded":
        orders.order_refund(actor=actor, order_id=order.pk, amount=Decimal("30.00"), reason="Demo: scale returned")
