"""The payment options a purchase may be offered, each with its schedule and cost.

This is the simple version, kept so the merchant API runs on its own: pay in 4, interest free,
one payment every two weeks from `start`. The full pricing (monthly instalments by the annuity
method, APR as the Consumer Credit Directive defines it) keeps this exact contract.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from django.utils.translation import gettext_lazy as _

from .money import minor_unit, money_round


@dataclass(frozen=True)
class ScheduledPayment:
    number: int
    due_date: date
    amount: Decimal
    principal: Decimal
    interest: Decimal


@dataclass(frozen=True)
class PaymentOption:
    key: str
    label: str
    instalments: int
    currency: str
    amount: Decimal
    schedule: tuple[ScheduledPayment, ...]
    total_payable: Decimal
    total_cost_of_credit: Decimal
    nominal_rate: Decimal
    apr: Decimal


PAY_IN_4 = "pay_in_4"
PAY_IN_4_PARTS = 4
PAY_IN_4_INTERVAL = timedelta(days=14)


def payment_options(*, amount: Decimal, currency: str, start: date) -> list[PaymentOption]:
    """The options for `amount` in `currency`, with due dates counted from `start`."""
    amount = money_round(amount, currency)
    return [_pay_in_4(amount=amount, currency=currency, start=start)]


def _pay_in_4(*, amount: Decimal, currency: str, start: date) -> PaymentOption:
    # Equal parts rounded down to the minor unit; what rounding leaves goes on the last payment.
    part = (amount / PAY_IN_4_PARTS).quantize(minor_unit(currency), rounding=ROUND_DOWN)
    last = amount - part * (PAY_IN_4_PARTS - 1)
    zero = money_round(Decimal(0), currency)
    schedule = tuple(
        ScheduledPayment(
            number=number,
            due_date=start + PAY_IN_4_INTERVAL * (number - 1),
            amount=last if number == PAY_IN_4_PARTS else part,
            principal=last if number == PAY_IN_4_PARTS else part,
            interest=zero,
        )
        for number in range(1, PAY_IN_4_PARTS + 1)
    )
    return PaymentOption(
        key=PAY_IN_4,
        label=str(_("Pay in 4, interest free")),
        instalments=PAY_IN_4_PARTS,
        currency=currency,
        amount=amount,
        schedule=schedule,
        total_payable=amount,
        total_cost_of_credit=zero,
        nominal_rate=Decimal("0.0"),
        apr=Decimal("0.0"),
    )
