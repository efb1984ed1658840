"""A reversed booking earns no commission (commissions/accrual.py).

On the workspace book with the house plan (1 % upfront on equities, 10 EUR per deposit, 10 %
override for manager@): a buy of 1,000 EUR of SAP earns broker1 10.00 and the manager 1.00.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from commissions import services
from commissions.models import Accrual, Kind, Statement
from tests.intermediaries.conftest import DAYS, book

from .conftest import OCTOBER, SEPTEMBER

pytestmark = pytest.mark.django_db

SEPTEMBER_DAY = DAYS[15]  # 22 September 2026
OCTOBER_DAY = date(2026, 10, 6)


def reverse_booking(original, day):
    reversal = book(f"REV-{original.external_id}", original.portfolio, "reversal", day, str(original.amount))
    reversal.reference = original
    reversal.save(update_fields=["reference"])
    return reversal


def earned_on(booking, **filters):
    return Accrual.objects.filter(source_transaction=booking, **filters)


@pytest.fixture
def purchase(workspace, plans):
    return book("X1", workspace.portfolios["C1001"], "buy", SEPTEMBER_DAY, "1000", workspace.market.equity, "8", "125")


def test_a_buy_reversed_in_its_month_earns_nothing(cast, purchase):
    services.month_accrue(period=SEPTEMBER)
    upfront = earned_on(purchase, kind=Kind.UPFRONT).get()
    assert upfront.amount == Decimal("10")
    assert Accrual.objects.filter(kind=Kind.OVERRIDE, source_accrual=upfront).get().amount == Decimal("1")
    before = Statement.objects.get(beneficiary=cast.broker1, period=SEPTEMBER).upfront

    reversal = reverse_booking(purchase, DAYS[17])
    services.month_accrue(period=SEPTEMBER)

    assert not earned_on(purchase).exists() and not earned_on(reversal).exists()
    assert not Accrual.objects.filter(kind=Kind.OVERRIDE, source_key=f"acc:{upfront.pk}").exists()
    assert Statement.objects.get(beneficiary=cast.broker1, period=SEPTEMBER).upfront == before - Decimal("10")


def test_a_buy_reversed_next_month_earns_nothing_while_its_month_is_open(cast, purchase):
    services.month_accrue(period=SEPTEMBER)
    reverse_booking(purchase, OCTOBER_DAY)
    services.month_accrue(period=SEPTEMBER)
    services.month_accrue(period=OCTOBER)
    assert not Accrual.objects.filter(source_key__startswith="rev:").exists()
    assert not earned_on(purchase).exists()


def test_a_reversal_after_the_month_closed_takes_the_commission_back_in_its_own_month(cast, workspace, purchase):
    deposit = book("X2", workspace.portfolios["C1001"], "deposit", SEPTEMBER_DAY, "500")
    services.month_accrue(period=SEPTEMBER)
    services.month_close_start(actor=cast.admin, period=SEPTEMBER)
    services.month_close_finish(period=SEPTEMBER)
    september = Statement.objects.get(beneficiary=cast.broker1, period=SEPTEMBER)
    upfront = earned_on(purchase, kind=Kind.UPFRONT).get()
    fixed = earned_on(deposit, kind=Kind.FIXED).get()
    # Both of broker1's clients move to broker2: broker1 is still the one who gives it back.
    workspace.anna.advisor = workspace.bert.advisor = cast.broker2
    workspace.anna.save(), workspace.bert.save()

    reversals = [reverse_booking(purchase, OCTOBER_DAY), reverse_booking(deposit, OCTOBER_DAY)]
    services.month_accrue(period=OCTOBER)
    services.month_accrue(period=OCTOBER)  # a second run changes nothing

    back = Accrual.objects.filter(beneficiary=cast.broker1, period=OCTOBER).exclude(kind=Kind.TRAILING)
    assert sorted((a.kind, a.amount, a.source_key, a.source_transaction_id, a.date) for a in back) == sorted(
        [
            (Kind.UPFRONT, Decimal("-10"), f"rev:{upfront.pk}", reversals[0].pk, OCTOBER_DAY),
            (Kind.FIXED, Decimal("-10"), f"rev:{fixed.pk}", reversals[1].pk, OCTOBER_DAY),
        ]
    )
    clawback = back.get(kind=Kind.UPFRONT)
    assert clawback.basis == -upfront.basis and clawback.source_accrual == upfront
    override = Accrual.objects.get(beneficiary=cast.manager, period=OCTOBER, source_accrual=clawback)
    assert override.amount == Decimal("-1")
    october = Statement.objects.get(beneficiary=cast.broker1, period=OCTOBER)
    assert (october.upfront, october.fixed, october.total) == (Decimal("-10.00"), Decimal("-10.00"), Decimal("-20.00"))
    # The closed month keeps what it paid.
    september.refresh_from_db()
    assert earned_on(purchase, kind=Kind.UPFRONT).get() == upfront and september.status == Statement.Status.PREPARED


def test_the_entry_page_says_what_a_clawback_takes_back(cast, login_as, purchase):
    services.month_accrue(period=SEPTEMBER)
    services.month_close_start(actor=cast.admin, period=SEPTEMBER)
    services.month_close_finish(period=SEPTEMBER)
    reverse_booking(purchase, OCTOBER_DAY)
    services.month_accrue(period=OCTOBER)
    clawback = Accrual.objects.get(beneficiary=cast.broker1, source_key__startswith="rev:")
    html = login_as(cast.broker1).get(reverse("commissions:accrual-detail", args=[clawback.pk])).content.decode()
    assert 'data-testid="accrual-clawback"' in html
    assert reverse("commissions:accrual-detail", args=[clawback.source_accrual_id]) in html


def test_a_fixed_commission_cannot_be_paid_on_a_reversal(plans):
    from django.core.exceptions import ValidationError

    from commissions.models import CommissionRule

    rule = CommissionRule(plan=plans.house, kind=Kind.FIXED, amount=Decimal("5"), event="reversal", valid_from=OCTOBER)
    with pytest.raises(ValidationError) as refused:
        rule.full_clean()
    assert refused.value.message_dict["event"] == ["A reversal cancels a booking; it cannot earn a commission."]
