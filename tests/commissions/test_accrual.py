"""The accrual engine: each kind from its source, dated rates, precedence, idempotency, overrides."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from commissions import services
from commissions.models import Accrual, CommissionPlan, Kind, Statement
from intermediaries.models import Transaction, Valuation
from tests.intermediaries.conftest import DAYS, book

from .conftest import OCTOBER, SEPTEMBER, rule

pytestmark = pytest.mark.django_db


def entries(user, period=SEPTEMBER, **filters):
    return Accrual.objects.filter(beneficiary=user, period=period, **filters).order_by("date", "kind", "source_key")


def snapshot(user, period=SEPTEMBER):
    return [
        (a.pk, a.kind, a.source_key, a.date, a.days, a.basis, a.rate, a.amount, a.rule_id)
        for a in entries(user, period)
    ]


def test_an_upfront_commission_is_the_rate_on_the_bought_amount(cast, workspace, plans):
    services.month_accrue(period=SEPTEMBER)
    upfront = entries(cast.broker1, kind=Kind.UPFRONT, client=workspace.anna).first()
    buy = Transaction.objects.get(external_id="T1-2")
    assert upfront.source_transaction == buy and upfront.source_key == f"txn:{buy.pk}"
    assert upfront.basis == Decimal("5000") and upfront.rate == Decimal("0.01") and upfront.amount == Decimal("50")
    assert upfront.rule == plans.rules.equity and upfront.asset_class == "equity"
    assert upfront.instrument == workspace.market.equity and upfront.date == DAYS[1]


def test_a_foreign_currency_purchase_is_converted_at_the_trade_dates_rate(cast, workspace, plans):
    services.month_accrue(period=SEPTEMBER)
    etf = entries(cast.broker1, kind=Kind.UPFRONT, client=workspace.anna, asset_class="etf").get()
    assert etf.basis == Decimal("1854.54545455")  # 2040 USD at 1.10 USD per EUR
    assert etf.amount == Decimal("9.27272727")


def test_a_fixed_amount_is_paid_per_named_event(cast, workspace, plans):
    services.month_accrue(period=SEPTEMBER)
    fixed = entries(cast.broker1, kind=Kind.FIXED)
    assert [(f.amount, f.source_transaction.type) for f in fixed] == [(Decimal("10"), "deposit")] * 2


def test_trailing_accrues_every_calendar_day_on_the_last_valuation(cast, workspace, plans):
    services.month_accrue(period=SEPTEMBER)
    portfolio = workspace.portfolios["C1001"]
    trailing = list(entries(cast.broker1, kind=Kind.TRAILING, portfolio=portfolio))
    # 1 to 30 September, weekends carried by Friday's value.
    assert sum(t.days for t in trailing) == 30
    friday = next(t for t in trailing if t.date == date(2026, 9, 4))
    assert friday.days == 3 and friday.source_date == date(2026, 9, 4)
    valuation = Valuation.objects.get(portfolio=portfolio, date=date(2026, 9, 4))
    assert friday.basis == valuation.market_value_eur
    assert friday.amount == (valuation.market_value_eur * Decimal("0.00003")).quantize(Decimal("0.00000001"))
    assert friday.source_key == f"val:{portfolio.pk}:2026-09-04"


def test_the_last_known_day_covers_only_itself_until_the_next_valuation_arrives(cast, workspace, plans):
    portfolio = workspace.portfolios["C1001"]
    services.month_accrue(period=OCTOBER)
    trailing = list(entries(cast.broker1, OCTOBER, kind=Kind.TRAILING, portfolio=portfolio))
    assert trailing[0].date == OCTOBER and sum(t.days for t in trailing) == 31
    # The data ends on Friday 9 October: that day counts once; the weekend waits for Monday's value.
    Valuation.objects.filter(portfolio=portfolio, date__gt=date(2026, 10, 9)).delete()
    services.month_accrue(period=OCTOBER)
    trailing = list(entries(cast.broker1, OCTOBER, kind=Kind.TRAILING, portfolio=portfolio))
    assert (trailing[-1].date, trailing[-1].days) == (date(2026, 10, 9), 1)


def test_running_a_month_again_gives_the_same_entries(cast, workspace, plans):
    services.month_accrue(period=SEPTEMBER)
    first = {user.pk: snapshot(user) for user in (cast.broker1, cast.broker2, cast.manager)}
    statement = Statement.objects.get(beneficiary=cast.broker1, period=SEPTEMBER)
    services.month_accrue(period=SEPTEMBER)
    assert {user.pk: snapshot(user) for user in (cast.broker1, cast.broker2, cast.manager)} == first
    statement_again = Statement.objects.get(beneficiary=cast.broker1, period=SEPTEMBER)
    assert (statement_again.pk, statement_again.total) == (statement.pk, statement.total)


def test_a_new_booking_adds_its_entry_and_leaves_the_others_alone(cast, workspace, plans):
    services.month_accrue(period=SEPTEMBER)
    before = {row[2]: row for row in snapshot(cast.broker1) if row[1] != Kind.TRAILING}
    buy = book("X1", workspace.portfolios["C1001"], "buy", DAYS[15], "1000", workspace.market.equity, "8", "125")
    services.month_accrue(period=SEPTEMBER)
    after = {row[2]: row for row in snapshot(cast.broker1) if row[1] != Kind.TRAILING}
    assert after.pop(f"txn:{buy.pk}")[7] == Decimal("10")
    assert after == before


def test_a_dated_change_applies_from_its_day_and_earlier_days_keep_their_rate(cast, workspace, plans):
    change = date(2026, 9, 16)
    newer = rule(plans.house, Kind.UPFRONT, rate="0.02", asset_class="equity", valid_from=change)
    higher_trailing = rule(plans.house, Kind.TRAILING, rate="0.0073", valid_from=change)
    early = book("X2", workspace.portfolios["C1001"], "buy", DAYS[8], "1000", workspace.market.equity, "8", "125")
    late = book("X3", workspace.portfolios["C1001"], "buy", DAYS[13], "1000", workspace.market.equity, "8", "125")
    assert DAYS[8] < change <= DAYS[13]
    services.month_accrue(period=SEPTEMBER)
    by_source = {a.source_key: a for a in entries(cast.broker1, kind=Kind.UPFRONT)}
    assert (by_source[f"txn:{early.pk}"].rate, by_source[f"txn:{early.pk}"].rule) == (
        Decimal("0.01"),
        plans.rules.equity,
    )
    assert (by_source[f"txn:{late.pk}"].rate, by_source[f"txn:{late.pk}"].rule) == (Decimal("0.02"), newer)
    trailing = list(entries(cast.broker1, kind=Kind.TRAILING, portfolio=workspace.portfolios["C1001"]))
    # Friday 11 September carries to Sunday 13; Tuesday 15 ends the old rate, Wednesday 16 starts the new one.
    assert all(t.rate == Decimal("0.00365") for t in trailing if t.date < change)
    assert all(t.rate == Decimal("0.0073") and t.rule == higher_trailing for t in trailing if t.date >= change)
    assert sum(t.days for t in trailing) == 30


def test_a_brokers_own_plan_wins_and_a_product_rule_beats_its_asset_class(cast, workspace, plans):
    own = CommissionPlan.objects.create(name="Senior", broker=cast.broker1)
    sap = rule(own, Kind.UPFRONT, rate="0.03", instrument=workspace.market.equity)
    rule(own, Kind.UPFRONT, rate="0.02", asset_class="equity")
    services.month_accrue(period=SEPTEMBER)
    anna_equity = entries(cast.broker1, kind=Kind.UPFRONT, client=workspace.anna, asset_class="equity").get()
    assert (anna_equity.rule, anna_equity.amount) == (sap, Decimal("150"))
    # The broker's plan has no ETF rule: the house plan's applies.
    anna_etf = entries(cast.broker1, kind=Kind.UPFRONT, client=workspace.anna, asset_class="etf").get()
    assert anna_etf.rule == plans.rules.etf
    # Another broker of the same firm keeps the house rate.
    carla = entries(cast.broker2, kind=Kind.UPFRONT, asset_class="equity").get()
    assert carla.rule == plans.rules.equity


def test_a_zero_rate_switches_a_commission_off_from_its_day(cast, workspace, plans):
    rule(plans.house, Kind.FIXED, amount="0", event="deposit", valid_from=date(2026, 8, 1))
    services.month_accrue(period=SEPTEMBER)
    assert not entries(cast.broker1, kind=Kind.FIXED).exists()


def test_the_firm_manager_earns_the_override_on_the_firms_brokers_only(cast, workspace, plans):
    services.month_accrue(period=SEPTEMBER)
    overrides = list(entries(cast.manager, kind=Kind.OVERRIDE))
    sources = Accrual.objects.filter(pk__in=[o.source_accrual_id for o in overrides])
    assert {s.beneficiary for s in sources} == {cast.broker1, cast.broker2}
    for override in overrides:
        assert override.amount == (override.source_accrual.amount * Decimal("0.1")).quantize(Decimal("0.00000001"))
        assert override.source_key == f"acc:{override.source_accrual_id}"
    assert not Accrual.objects.filter(beneficiary=cast.manager, client=workspace.dora).exists()
    assert Statement.objects.get(beneficiary=cast.manager, period=SEPTEMBER).override > 0


def test_statement_totals_are_the_rounded_sums_per_kind(cast, workspace, plans):
    services.month_accrue(period=SEPTEMBER)
    statement = Statement.objects.get(beneficiary=cast.broker1, period=SEPTEMBER)
    for kind in Kind.values:
        exact = sum((a.amount for a in entries(cast.broker1, kind=kind)), Decimal(0))
        assert getattr(statement, kind) == exact.quantize(Decimal("0.01"))
    assert statement.total == statement.upfront + statement.trailing + statement.fixed + statement.override
    assert statement.accrual_count == entries(cast.broker1).count()


def test_a_client_moved_to_another_broker_leaves_the_old_brokers_open_month(cast, workspace, plans):
    services.month_accrue(period=SEPTEMBER)
    assert entries(cast.broker1, client=workspace.bert).exists()
    workspace.bert.advisor = cast.broker2
    workspace.bert.save()
    services.month_accrue(period=SEPTEMBER)
    assert not entries(cast.broker1, client=workspace.bert).exists()
    assert entries(cast.broker2, client=workspace.bert).exists()


def test_a_closed_month_is_never_recomputed(cast, workspace, plans, settings):
    services.month_accrue(period=SEPTEMBER)
    services.month_close_start(actor=cast.admin, period=SEPTEMBER)
    services.month_close_finish(period=SEPTEMBER)
    frozen = snapshot(cast.broker1)
    rule(plans.house, Kind.UPFRONT, rate="0.5", asset_class="equity", valid_from=date(2026, 9, 1) - timedelta(days=1))
    book("X4", workspace.portfolios["C1001"], "buy", DAYS[5], "1000", workspace.market.equity, "8", "125")
    assert services.month_accrue(period=SEPTEMBER) == 0
    assert snapshot(cast.broker1) == frozen
