"""Plans priced by bnpl.pricing and fee schedules, for the fee module's tests."""

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from bnpl.models import FeeSchedule, Instalment, Order, OrderLine, Plan
from bnpl.pricing import payment_option

from .factories import OrderFactory


def priced_plan(*, merchant, shopper, key="monthly_6", amount=Decimal("600.00"), start=date(2026, 3, 2)) -> Plan:
    """An active plan exactly as the option was disclosed: its schedule starts on `start` (shipment)."""
    option = payment_option(key=key, amount=amount, currency="EUR", start=start)
    order = OrderFactory(
        merchant=merchant,
        shopper=shopper,
        amount=amount,
        option_key=key,
        state=Order.State.SHIPPED,
        shipped_at=timezone.now(),
    )
    OrderLine.objects.create(order=order, name="Item", quantity=1, unit_price=amount, line_total=amount)
    plan = Plan.objects.create(
        order=order,
        option_key=key,
        nominal_rate=option.nominal_rate,
        apr=option.apr,
        total_payable=option.total_payable,
        total_cost_of_credit=option.total_cost_of_credit,
        currency="EUR",
        state=Plan.State.ACTIVE,
        start_date=start,
    )
    Instalment.objects.bulk_create(
        Instalment(
            plan=plan,
            number=p.number,
            due_date=p.due_date,
            amount=p.amount,
            principal=p.principal,
            interest=p.interest,
        )
        for p in option.schedule
    )
    return plan


def schedule(scope="default", **fields) -> FeeSchedule:
    values = {
        "scope": scope,
        "currency": "EUR",
        "late_fee_amount": Decimal("5.00"),
        "grace_days": 5,
        "dunning_fee_amount": Decimal("2.50"),
        "cap_per_instalment": Decimal("10.00"),
        "cap_share_of_purchase": Decimal("10.00"),
        "valid_from": date(2026, 1, 1),
    } | fields
    return FeeSchedule.objects.create(**values)


def days(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)
