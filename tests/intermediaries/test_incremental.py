"""Incremental revaluation: resuming after a stored day gives what a replay from the first booking gives.

The first half is pure (no database): histories are replayed in full, then again in two parts --
up to a day R, and from the state stored for R on -- at every possible R, and the figures must be
identical: not close, equal, to the last digit. The second half does the same through the
database (`portfolio_revalue(since=…)` against a full `portfolio_revalue`), then checks which
portfolios an import revalues from which day, and the Celery task.
"""

import random
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection

from intermediaries import services
from intermediaries.models import Allocation, FxRate, Holding, Instrument, Portfolio, Price, Transaction, Valuation
from intermediaries.performance import (
    DayValue,
    Flag,
    HoldingSpan,
    PerformanceInputError,
    ResumePosition,
    ResumeState,
    Txn,
    fallback_prices,
    resume_state,
    value_portfolio,
)
from intermediaries.tasks import portfolios_revalue
from intermediaries.valuation import VALUATION_FIELDS, portfolio_revalue

from .conftest import DAYS, book, business_days, make_portfolio

D = Decimal
CENT = D("0.01")
INDEX_PLACES = D("0.000000000001")
QUANTITY_PLACES = D("0.00000001")

MON = date(2024, 1, 1)  # a Monday
AAA, BBB, CCC, NOCLOSE, LATE = 1, 2, 3, 4, 5
CCY = {AAA: "EUR", BBB: "USD", CCC: "CHF", NOCLOSE: "EUR", LATE: "USD"}


def day(n: int) -> date:
    return MON + timedelta(days=n)


class Book:
    """Bookings with increasing ids."""

    def __init__(self):
        self.txns: list[Txn] = []

    def __call__(self, kind, when, amount="0", *, instrument=None, quantity="0", price="0", currency="EUR"):
        self.txns.append(Txn(len(self.txns) + 1, kind, when, instrument, D(quantity), D(price), D(amount), currency))


# --------------------------------------------------------------------------------------------
# The comparison
# --------------------------------------------------------------------------------------------


def stored_day(v: DayValue) -> DayValue:
    """The day as a `Valuation` row gives it back (money in cents, the index to 12 places)."""
    return DayValue(
        v.date,
        v.market_value.quantize(CENT),
        v.cash.quantize(CENT),
        v.inflow.quantize(CENT),
        v.outflow.quantize(CENT),
        v.daily_return.quantize(INDEX_PLACES),
        v.twr_index.quantize(INDEX_PLACES),
        v.flags,
    )


def stored_span(s: HoldingSpan) -> HoldingSpan:
    return HoldingSpan(
        s.instrument_id, s.valid_from, s.valid_to, s.quantity.quantize(QUANTITY_PLACES), s.cost.quantize(CENT)
    )


def from_day(series: dict, first: date) -> dict:
    """What the service loads: per key the last entry on or before `first`, and everything after."""
    out = {}
    for key, rows in series.items():
        before = [r for r in rows if r[0] <= first]
        out[key] = before[-1:] + [r for r in rows if r[0] > first]
    return out


def merge_spans(stored: list[HoldingSpan], changed: list[HoldingSpan]) -> list[HoldingSpan]:
    """Stored spans with the changed ones put in place (a changed span keeps its `valid_from`)."""
    replaced = {(s.instrument_id, s.valid_from) for s in changed}
    kept = [s for s in stored if (s.instrument_id, s.valid_from) not in replaced]
    return sorted(kept + changed, key=lambda s: (s.instrument_id, s.valid_from))


def value(txns, *, until, prices, fx, currency="EUR", resume=None):
    return value_portfolio(
        currency=currency,
        transactions=txns,
        prices=prices,
        instrument_currency=CCY,
        fx=fx,
        until=until,
        resume=resume,
    )


def assert_resumes_everywhere(txns, *, until, prices=None, fx=None, currency="EUR"):
    """Split the replay after every valuation day; both halves together must equal the full replay."""
    prices, fx = prices or {}, fx or {}
    full = value(txns, until=until, prices=prices, fx=fx, currency=currency)
    assert full.days, "an empty history proves nothing"
    stored_full = [stored_day(v) for v in full.days]
    for i, last in enumerate(full.days):
        head = value(txns, until=last.date, prices=prices, fx=fx, currency=currency)
        assert head.days == full.days[: i + 1]
        state = resume_state(
            stored_day(head.days[-1]), [stored_span(s) for s in head.holdings], fallback_prices(txns, last.date)
        )
        # Half of the time the caller passes only the new bookings, half of the time all of them.
        passed = txns if i % 2 else [t for t in txns if t.trade_date > last.date]
        tail = value(
            passed,
            until=until,
            prices=from_day(prices, last.date),
            fx=from_day(fx, last.date),
            currency=currency,
            resume=state,
        )
        assert [v.date for v in tail.days] == [v.date for v in full.days[i + 1 :]]
        assert head.days + tail.days == full.days, f"resumed after {last.date}"
        assert [stored_day(v) for v in head.days + tail.days] == stored_full
        assert all(s.valid_from > last.date or s.valid_to is not None for s in tail.holdings)
        assert merge_spans([stored_span(s) for s in head.holdings], tail.holdings) == [
            stored_span(s) for s in full.holdings
        ], f"spans resumed after {last.date}"
    return full


def closes(*pairs):
    return [(when, D(close)) for when, close in pairs]


# --------------------------------------------------------------------------------------------
# Hand-made histories: the edge cases
# --------------------------------------------------------------------------------------------


def test_an_emptied_and_refilled_portfolio_resumes_anywhere():
    b = Book()
    b("deposit", day(0), "1000")
    b("buy", day(0), "1000", instrument=AAA, quantity="10", price="100")
    b("sell", day(1), "1100", instrument=AAA, quantity="10", price="110")
    b("withdrawal", day(1), "1100")
    b("deposit", day(3), "2000")
    b("buy", day(3), "2000", instrument=AAA, quantity="20", price="100")
    prices = {AAA: closes((day(0), "100"), (day(1), "110"), (day(2), "105"), (day(3), "100"), (day(4), "102"))}
    full = assert_resumes_everywhere(b.txns, until=day(7), prices=prices)
    assert [v.flags & (Flag.EMPTIED | Flag.NO_START_VALUE) for v in full.days[1:3]] == [
        Flag.EMPTIED,
        Flag.NO_START_VALUE,
    ]


def test_a_same_day_buy_and_sell_resumes_anywhere():
    b = Book()
    b("deposit", day(0), "1000")
    b("buy", day(1), "1000", instrument=AAA, quantity="10", price="100")
    b("sell", day(1), "1020", instrument=AAA, quantity="10", price="102")
    b("buy", day(2), "303", instrument=AAA, quantity="3", price="101")
    b("sell", day(3), "104", instrument=AAA, quantity="1", price="104")
    b("buy", day(3), "208", instrument=AAA, quantity="2", price="104")
    prices = {AAA: closes(*((day(n), str(100 + n)) for n in range(5)))}
    full = assert_resumes_everywhere(b.txns, until=day(4), prices=prices)
    # Day 3 sold one and bought two: quantity 4 at a new cost, one span change.
    assert [(s.valid_from, s.quantity) for s in full.holdings] == [(day(2), 3), (day(3), 4)]


def test_a_dividend_after_the_sale_is_flagged_after_a_resume_too():
    b = Book()
    b("deposit", day(0), "1000")
    b("buy", day(0), "1000", instrument=AAA, quantity="10", price="100")
    b("sell", day(1), "1000", instrument=AAA, quantity="10", price="100")
    b("dividend", day(3), "5", instrument=AAA)
    prices = {AAA: closes((day(0), "100"), (day(1), "100"))}
    full = assert_resumes_everywhere(b.txns, until=day(4), prices=prices)
    assert full.days[3].flags & Flag.INCOME_WITHOUT_POSITION


def test_negative_cash_and_a_short_position_resume_anywhere():
    b = Book()
    b("deposit", day(0), "500")
    b("buy", day(0), "1000", instrument=AAA, quantity="10", price="100")
    b("sell", day(2), "1650", instrument=AAA, quantity="15", price="110")  # 5 short
    b("fee", day(3), "0.37")
    b("buy", day(4), "840", instrument=AAA, quantity="8", price="105")  # covers, 3 long
    b("tax", day(7), "12.5")
    prices = {AAA: closes((day(0), "100"), (day(1), "110"), (day(2), "110"), (day(4), "105"), (day(8), "99.5"))}
    full = assert_resumes_everywhere(b.txns, until=day(9), prices=prices)
    assert full.days[0].flags & Flag.NEGATIVE_CASH
    assert full.days[2].flags & Flag.SHORT_POSITION


def test_a_stale_price_carried_across_the_resumed_day():
    b = Book()
    b("deposit", day(0), "5000")
    b("buy", day(0), "1234.56", instrument=AAA, quantity="12.5", price="98.7648")
    # Closes stop after day 1, come once on day 10: days 2..9 and 11 are stale, on both sides of R.
    prices = {AAA: closes((day(0), "98.76"), (day(1), "99.1"), (day(10), "101.37"))}
    full = assert_resumes_everywhere(b.txns, until=day(11), prices=prices)
    assert [bool(v.flags & Flag.STALE_PRICE) for v in full.days] == [False, False] + [True] * 6 + [False, True]


def test_foreign_currencies_and_missing_rates_resume_anywhere():
    b = Book()
    b("deposit", day(0), "10000", currency="USD")
    b("buy", day(0), "2040", instrument=BBB, quantity="40", price="51", currency="USD")
    b("buy", day(1), "1111.11", instrument=CCC, quantity="7", price="158.73", currency="CHF")
    b("dividend", day(3), "13.37", instrument=BBB, currency="USD")
    b("sell", day(4), "1000.01", instrument=BBB, quantity="19", price="52.6321", currency="USD")
    b("transfer_in", day(5), instrument=CCC, quantity="3")  # at market, in CHF
    b("withdrawal", day(8), "777.77", currency="CHF")
    prices = {
        BBB: closes(*((day(n), str(D("51") + D(n) / 7)) for n in range(12) if n % 7 < 5 and n != 2)),
        CCC: closes(*((day(n), str(D("158.73") - D(n) / 3)) for n in range(12) if n % 7 < 5)),
    }
    fx = {
        "USD": closes(*((day(n), str(D("1.0800") + D(n) / 997)) for n in range(12) if n not in (3, 4))),
        "CHF": closes(*((day(n), str(D("0.9612") - D(n) / 1009)) for n in range(12) if n != 8)),
    }
    for currency in ("EUR", "USD", "CHF"):
        full = assert_resumes_everywhere(b.txns, until=day(11), prices=prices, fx=fx, currency=currency)
        assert any(v.flags & Flag.MISSING_FX for v in full.days)


def test_a_position_without_any_close_keeps_its_fallback_price_across_the_resume():
    b = Book()
    b("deposit", day(0), "1000")
    b("buy", day(0), "500", instrument=NOCLOSE, quantity="10", price="50")
    b("sell", day(2), "550", instrument=NOCLOSE, quantity="10", price="55")
    # Back in later at market with no stated amount or price: valued at the last buy price, 50.
    b("transfer_in", day(4), instrument=NOCLOSE, quantity="4")
    b("buy", day(7), "100", instrument=LATE, quantity="2", price="50", currency="USD")
    prices = {LATE: closes((day(9), "55"))}
    fx = {"USD": closes((day(0), "1.25"))}
    full = assert_resumes_everywhere(b.txns, until=day(10), prices=prices, fx=fx)
    assert full.days[4].inflow == 200

    # Without the fallback a resumed replay would value the transfer (and the position) at 0.
    head = value(b.txns, until=day(3), prices=prices, fx=fx)
    state = resume_state(head.days[-1], head.holdings)
    tail = value(b.txns, until=day(10), prices=prices, fx=fx, resume=state)
    assert head.days + tail.days != full.days


def test_spans_open_at_the_resume_come_back_with_their_start_only_when_they_change():
    b = Book()
    b("deposit", day(0), "10000")
    b("buy", day(0), "1000", instrument=AAA, quantity="10", price="100")
    b("buy", day(0), "2040", instrument=BBB, quantity="40", price="51", currency="EUR")
    b("sell", day(8), "600", instrument=AAA, quantity="5", price="120")
    prices = {AAA: closes((day(0), "100")), BBB: closes((day(0), "55"))}
    fx = {"USD": closes((day(0), "1"))}
    head = value(b.txns, until=day(3), prices=prices, fx=fx)
    tail = value(b.txns, until=day(10), prices=prices, fx=fx, resume=resume_state(head.days[-1], head.holdings))
    # AAA's span from day 0 closes on day 8 (and a new one opens); BBB's stays open: not returned.
    assert tail.holdings == [
        HoldingSpan(AAA, day(0), day(8), D(10), D(1000)),
        HoldingSpan(AAA, day(8), None, D(5), D(500)),
    ]
    assert [v.date for v in tail.days] == [day(4), day(7), day(8), day(9), day(10)]


def test_a_resume_at_or_after_until_values_nothing():
    state = ResumeState(day(4), D(100), D(100), D("1.05"), {})
    assert value([], until=day(4), prices={}, fx={}, resume=state).days == []
    assert value([], until=day(2), prices={}, fx={}, resume=state).days == []
    # From a stored day on with nothing booked: the next weekdays at the same value and index.
    days = value([], until=day(7), prices={}, fx={}, resume=state).days
    assert [(v.date, v.market_value, v.twr_index) for v in days] == [(day(7), 100, D("1.05"))]


def test_a_position_held_without_an_open_span_is_refused():
    state = ResumeState(day(4), D(0), D(0), D(1), {AAA: ResumePosition(D(1), D(1), None)})
    with pytest.raises(PerformanceInputError, match="without a span"):
        value([], until=day(7), prices={}, fx={}, resume=state)


def test_a_chain_of_daily_resumes_equals_one_replay():
    """What production does: each day resumes from the state the previous day's run stored."""
    txns, prices, fx, currency = random_history(7)
    full = value(txns, until=day(60), prices=prices, fx=fx, currency=currency)
    stored = [stored_day(v) for v in value(txns, until=day(20), prices=prices, fx=fx, currency=currency).days]
    spans = [stored_span(s) for s in value(txns, until=day(20), prices=prices, fx=fx, currency=currency).holdings]
    for until in (day(n) for n in range(21, 61)):
        state = resume_state(stored[-1], spans, fallback_prices(txns, stored[-1].date))
        tail = value(txns, until=until, prices=prices, fx=fx, currency=currency, resume=state)
        stored += [stored_day(v) for v in tail.days]
        spans = merge_spans(spans, [stored_span(s) for s in tail.holdings])
    assert stored == [stored_day(v) for v in full.days]
    assert spans == [stored_span(s) for s in full.holdings]


# --------------------------------------------------------------------------------------------
# Random-ish histories (seeded): every booking type, stale prices, missing rates, three currencies
# --------------------------------------------------------------------------------------------


def random_history(seed: int):
    rng = random.Random(seed)
    calendar = [day(n) for n in range(61)]
    weekdays = [d for d in calendar if d.weekday() < 5]

    def walk(first, missing, start=0):
        level, rows = D(first), []
        for d in weekdays[start:]:
            level = (level * (1 + D(rng.randint(-300, 300)) / 10000)).quantize(D("0.000001"))
            if rng.random() > missing:
                rows.append((d, level))
        return rows

    prices = {
        AAA: walk("84.12", 0.08),
        BBB: walk("142.5", 0.12),
        CCC: walk("245.0", 0.2),
        LATE: walk("31.5", 0.1, start=25),  # no close for the first five weeks
    }  # NOCLOSE never has one
    fx = {
        "USD": [(d - timedelta(days=3), r) for d, r in walk("1.08", 0.1)],
        "CHF": [(d - timedelta(days=3), r) for d, r in walk("0.96", 0.1)],
    }
    fx = {k: [(d, r.quantize(D("0.0000000001"))) for d, r in v] for k, v in fx.items()}
    currency = rng.choice(["EUR", "EUR", "USD", "CHF"])
    held = dict.fromkeys(CCY, D(0))
    b = Book()
    b("deposit", day(0), "20000", currency=currency)
    for d in calendar:
        if d.weekday() >= 5 and rng.random() > 0.2:
            continue
        for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
            iid = rng.choice(list(CCY))
            ccy = CCY[iid]
            quantity = D(rng.randint(1, 40000)) / 1000
            price = D(rng.randint(2000, 30000)) / 100
            amount = (quantity * price).quantize(CENT)
            kind = rng.choices(
                [
                    "buy",
                    "sell",
                    "dividend",
                    "deposit",
                    "withdrawal",
                    "fee",
                    "tax",
                    "interest",
                    "transfer_in",
                    "transfer_out",
                ],
                weights=[30, 20, 8, 6, 6, 5, 3, 3, 5, 5],
            )[0]
            if kind == "buy":
                b(kind, d, amount, instrument=iid, quantity=quantity, price=price, currency=ccy)
                held[iid] += quantity
            elif kind == "sell":
                # Mostly what is held, sometimes everything, now and then more (short).
                quantity = rng.choice([held[iid] / 2, held[iid], held[iid] + 1, quantity]).quantize(QUANTITY_PLACES)
                if quantity <= 0:
                    continue
                b(
                    kind,
                    d,
                    (quantity * price).quantize(CENT),
                    instrument=iid,
                    quantity=quantity,
                    price=price,
                    currency=ccy,
                )
                held[iid] -= quantity
            elif kind in ("transfer_in", "transfer_out"):
                stated = rng.random() < 0.5
                b(
                    kind,
                    d,
                    amount if stated else "0",
                    instrument=iid,
                    quantity=quantity,
                    price=price if rng.random() < 0.5 else "0",
                    currency=ccy,
                )
                held[iid] += quantity if kind == "transfer_in" else -quantity
            elif kind in ("dividend", "interest"):
                b(kind, d, D(rng.randint(1, 20000)) / 100, instrument=iid if rng.random() < 0.8 else None, currency=ccy)
            else:
                b(kind, d, D(rng.randint(1, 900000)) / 100, currency=rng.choice([currency, "EUR", "USD", "CHF"]))
    return b.txns, prices, fx, currency


@pytest.mark.parametrize("seed", range(8))
def test_a_random_history_resumed_after_any_day_equals_the_full_replay(seed):
    txns, prices, fx, currency = random_history(seed)
    full = assert_resumes_everywhere(txns, until=day(60), prices=prices, fx=fx, currency=currency)
    assert len(full.days) >= 43


def test_the_random_histories_reach_the_edge_cases():
    """The seeds above do go through what can go wrong, so their equality means something."""
    seen = 0
    for seed in range(8):
        txns, prices, fx, currency = random_history(seed)
        for v in value(txns, until=day(60), prices=prices, fx=fx, currency=currency).days:
            seen |= v.flags
    for flag in (
        Flag.STALE_PRICE,
        Flag.NEGATIVE_CASH,
        Flag.INCOME_WITHOUT_POSITION,
        Flag.MISSING_FX,
        Flag.SHORT_POSITION,
    ):
        assert seen & flag, flag


# --------------------------------------------------------------------------------------------
# Through the database
# --------------------------------------------------------------------------------------------

# Every stored valuation column but the portfolio itself.
VALUATION_COLUMNS = tuple(VALUATION_FIELDS[1:])
UNTIL = DAYS[-1] + timedelta(days=14)  # two weeks of stale prices and rates at the end
NEW_DAY = business_days(DAYS[-1] + timedelta(days=1), 1)[0]
SATURDAY = DAYS[14] + timedelta(days=(5 - DAYS[14].weekday()) % 7)


def stored(portfolio_id: int):
    """Everything a revaluation writes for one portfolio, in a comparable form."""
    return (
        list(Valuation.objects.filter(portfolio_id=portfolio_id).order_by("date").values_list(*VALUATION_COLUMNS)),
        list(
            Holding.objects.filter(portfolio_id=portfolio_id)
            .order_by("instrument_id", "valid_from")
            .values_list("instrument_id", "valid_from", "valid_to", "quantity", "cost")
        ),
        sorted(Allocation.objects.filter(portfolio_id=portfolio_id).values_list("asset_class", "market_value_eur")),
        Portfolio.objects.values_list("market_value", "valued_on").get(pk=portfolio_id),
    )


def assert_incremental_equals_full(portfolio_id: int, *, since: date, until: date = UNTIL) -> int:
    """Revalue from `since`, then replay in full: the stored rows must be the same.

    Also checks that the first run did resume where it could: the rows before the resumed day
    are the very rows that were there (a full replay writes new ones).
    """
    start = min(since, until + timedelta(days=1))
    first_booking = Transaction.objects.filter(portfolio_id=portfolio_id).order_by("trade_date").first().trade_date
    rows = Valuation.objects.filter(portfolio_id=portfolio_id, date__lt=start)
    resumable = first_booking < start and rows.exists()
    before = set(rows.values_list("pk", flat=True))
    written = portfolio_revalue(portfolio_id=portfolio_id, until=until, since=since)
    kept = before & set(Valuation.objects.filter(portfolio_id=portfolio_id).values_list("pk", flat=True))
    assert kept == (before if resumable else set())
    incremental = stored(portfolio_id)
    portfolio_revalue(portfolio_id=portfolio_id, until=until)
    assert stored(portfolio_id) == incremental, f"since {since}"
    return written


def add_price_day(market, when: date, *, move="1.5"):
    Price.objects.create(instrument=market.equity, date=when, close=D("130") + D(move))
    Price.objects.create(instrument=market.fund, date=when, close=D("65.25") - D(move))
    FxRate.objects.create(currency="USD", date=when, rate=D("1.0876543210"))


@pytest.fixture
def usd_portfolio(workspace):
    """A USD portfolio with CHF bookings too, an instrument without closes, and a weekend booking."""
    market = workspace.market
    FxRate.objects.bulk_create(
        [FxRate(currency="CHF", date=d, rate=D("0.93") + D(i) / 1000) for i, d in enumerate(DAYS) if i % 4]
    )
    bond = Instrument.objects.create(isin="DE0001102580", name="Bund 2033", asset_class="bond", currency="EUR")
    portfolio = make_portfolio(workspace.carla, "PUSD", currency="USD")
    book("U1", portfolio, "deposit", DAYS[0], "25000", currency="USD")
    book("U2", portfolio, "deposit", DAYS[1], "3000.55", currency="CHF")
    book("U3", portfolio, "buy", DAYS[1], "3333.33", market.equity, "31", "107.5268")
    book("U4", portfolio, "buy", DAYS[2], "4040", market.fund, "80", "50.5", currency="USD")
    book("U5", portfolio, "buy", DAYS[3], "990.10", bond, "10", "99.01")
    book("U6", portfolio, "sell", DAYS[9], "1200", market.equity, "11", "109.0909")
    book("U7", portfolio, "dividend", DAYS[12], "44.44", market.fund, currency="USD")
    book("U8", portfolio, "fee", SATURDAY, "9.99")
    book("U9", portfolio, "transfer_out", DAYS[17], "0", market.fund, "30")
    book("U10", portfolio, "sell", DAYS[22], "1000", market.equity, "20", "122")
    book("U11", portfolio, "transfer_in", DAYS[25], "0", bond, "5")
    portfolio_revalue(portfolio_id=portfolio.pk, until=UNTIL)
    return portfolio


def test_a_new_price_day_is_valued_from_the_stored_day_before_it(workspace, django_assert_max_num_queries):
    portfolio = workspace.portfolios["C1001"]
    portfolio_revalue(portfolio_id=portfolio.pk, until=DAYS[-1])
    earlier = dict(Valuation.objects.filter(portfolio=portfolio).values_list("date", "pk"))
    holdings = list(Holding.objects.filter(portfolio=portfolio).values_list("pk", flat=True))
    add_price_day(workspace.market, NEW_DAY)

    # Lock and state, spans, bookings, closes, rates, allocation, latest value, and the savepoint
    # around them. On PostgreSQL the rows go in by COPY, which Django's query log does not see;
    # elsewhere the day's row and the allocation are two more statements.
    with django_assert_max_num_queries(9 if connection.vendor == "postgresql" else 11):
        assert portfolio_revalue(portfolio_id=portfolio.pk, until=NEW_DAY, since=NEW_DAY) == 1
    # The stored days and spans were left alone; one day was added.
    after = dict(Valuation.objects.filter(portfolio=portfolio).values_list("date", "pk"))
    assert {d: pk for d, pk in after.items() if d != NEW_DAY} == earlier
    assert sorted(after) == [*sorted(earlier), NEW_DAY]
    assert sorted(Holding.objects.filter(portfolio=portfolio).values_list("pk", flat=True)) == sorted(holdings)
    portfolio.refresh_from_db()
    assert portfolio.valued_on == NEW_DAY
    # Cash 10000 - 5000 - 2040 USD / 1.1 + 120 - 15 + 2400 (in cents), 30 SAP at 131.5, 40 ETF at 63.75 USD
    cash = (D(7505) - D(2040) / D("1.1")).quantize(CENT)
    assert portfolio.market_value == (cash + D(30) * D("131.5") + D(40) * D("63.75") / D("1.0876543210")).quantize(CENT)

    incremental = stored(portfolio.pk)
    portfolio_revalue(portfolio_id=portfolio.pk, until=NEW_DAY)
    assert stored(portfolio.pk) == incremental


@pytest.mark.parametrize("offset", [1, 2, 5, 11, 12, 20, 21, 29])
def test_revaluing_from_any_day_equals_a_full_replay(workspace, offset):
    portfolio = workspace.portfolios["C1002"]
    portfolio_revalue(portfolio_id=portfolio.pk, until=UNTIL)
    assert assert_incremental_equals_full(portfolio.pk, since=DAYS[offset]) > 0


SINCE_DAYS = [
    DAYS[0] - timedelta(days=1),
    DAYS[0],
    DAYS[1],
    DAYS[2],
    DAYS[3],
    DAYS[5],
    DAYS[9],
    SATURDAY,
    SATURDAY + timedelta(days=1),
    DAYS[17],
    DAYS[22],
    DAYS[25],
    DAYS[-1],
    DAYS[-1] + timedelta(days=1),
    UNTIL - timedelta(days=2),
    UNTIL,
    UNTIL + timedelta(days=1),
    UNTIL + timedelta(days=3),
    UNTIL + timedelta(days=4),
    UNTIL + timedelta(days=5),
]


@pytest.mark.parametrize("since", SINCE_DAYS, ids=str)
def test_a_foreign_currency_portfolio_revalued_from_any_day_equals_a_full_replay(usd_portfolio, market, since):
    add_price_day(market, UNTIL + timedelta(days=3))
    assert_incremental_equals_full(usd_portfolio.pk, since=since, until=UNTIL + timedelta(days=4))


def test_a_booking_correction_before_the_last_stored_day_is_revalued_from_its_date(usd_portfolio):
    sale = Transaction.objects.get(external_id="TU10")
    old_day = sale.trade_date
    # The sale moves earlier and sells everything: the span open since DAYS[9] now closes on DAYS[15].
    sale.trade_date, sale.quantity, sale.amount = DAYS[15], D("20"), D("2222.22")
    sale.save()
    assert_incremental_equals_full(usd_portfolio.pk, since=min(old_day, DAYS[15]))
    # The sale disappears: the span it closed is open again.
    Transaction.objects.filter(external_id="TU10").delete()
    assert_incremental_equals_full(usd_portfolio.pk, since=DAYS[15])
    equity = Instrument.objects.get(isin="DE0007164600").pk
    spans = Holding.objects.filter(portfolio=usd_portfolio, instrument_id=equity).order_by("valid_from")
    assert list(spans.values_list("valid_from", "valid_to", "quantity")) == [
        (DAYS[1], DAYS[9], 31),
        (DAYS[9], None, 20),
    ]
    # A new booking in the past, of an instrument never held before.
    other = Instrument.objects.create(isin="FR0000120271", name="Total", asset_class="equity", currency="EUR")
    Price.objects.create(instrument=other, date=DAYS[4], close=D("61.2"))
    book("U12", usd_portfolio, "buy", DAYS[6], "600", other, "10", "60")
    assert_incremental_equals_full(usd_portfolio.pk, since=DAYS[6])


def test_without_a_stored_day_before_since_it_replays_from_the_first_booking(workspace, market):
    portfolio = make_portfolio(workspace.dora, "PNEW")
    book("N1", portfolio, "deposit", DAYS[3], "1000")
    book("N2", portfolio, "buy", DAYS[4], "505", market.equity, "5", "101")
    # Never valued: a since in the middle still values everything.
    assert portfolio_revalue(portfolio_id=portfolio.pk, until=UNTIL, since=DAYS[10]) > 10
    first = stored(portfolio.pk)
    assert first[0][0][0] == DAYS[3]
    # A booking before the first one: since is before every stored day.
    book("N0", portfolio, "deposit", DAYS[1], "50")
    assert_incremental_equals_full(portfolio.pk, since=DAYS[1])
    assert stored(portfolio.pk)[0][0][0] == DAYS[1]


def test_a_revaluation_run_twice_writes_the_same_rows(usd_portfolio, market):
    until = UNTIL + timedelta(days=30)
    add_price_day(market, until)
    portfolio_revalue(portfolio_id=usd_portfolio.pk, until=until, since=DAYS[20])
    once = stored(usd_portfolio.pk)
    portfolio_revalue(portfolio_id=usd_portfolio.pk, until=until, since=DAYS[20])
    assert stored(usd_portfolio.pk) == once


# --------------------------------------------------------------------------------------------
# After an import: which portfolios, from which day; the task
# --------------------------------------------------------------------------------------------


def report(*, portfolios=None, prices=None, fx=None, advisors=None):
    prices, fx = prices or {}, fx or {}
    return SimpleNamespace(
        affected_portfolios=portfolios or {},
        affected_advisors=advisors or set(),
        price_changes=prices,
        fx_changes=fx,
        prices_changed_since=min(prices.values(), default=None),
        fx_changed_since=min(fx.values(), default=None),
    )


@pytest.fixture
def more_portfolios(workspace, market):
    """A cash-only EUR portfolio, a never-valued one, and one that sold its SAP early."""
    cash = make_portfolio(workspace.anna, "PCASH")
    book("C1", cash, "deposit", DAYS[0], "100")
    portfolio_revalue(portfolio_id=cash.pk, until=UNTIL)
    fresh = make_portfolio(workspace.bert, "PFRESH")
    sold = make_portfolio(workspace.bert, "PSOLD")
    book("S1", sold, "deposit", DAYS[0], "1000")
    book("S2", sold, "buy", DAYS[0], "1000", market.equity, "10", "100")
    book("S3", sold, "sell", DAYS[5], "1050", market.equity, "10", "105")
    portfolio_revalue(portfolio_id=sold.pk, until=UNTIL)
    return SimpleNamespace(cash=cash, fresh=fresh, sold=sold)


def test_an_import_revalues_each_portfolio_from_the_earliest_day_it_changed(workspace, more_portfolios):
    p = {number: portfolio.pk for number, portfolio in workspace.portfolios.items()}
    equity, fund = workspace.market.equity.pk, workspace.market.fund.pk
    affected = services.valuations_affected(
        report(portfolios={p["C1002"]: DAYS[3]}, prices={equity: DAYS[8], fund: DAYS[12]})
    )
    assert affected == {
        p["C1001"]: DAYS[8],
        p["C1002"]: DAYS[3],  # its booking is earlier than the new close
        p["C2001"]: DAYS[8],
        p["C3001"]: DAYS[8],
        more_portfolios.fresh.pk: None,  # never valued: from its first booking
    }  # not the cash-only portfolio, nor the one that sold SAP on DAYS[5]
    # A correction of SAP's close on the day it was sold reaches the seller too.
    assert services.valuations_affected(report(prices={equity: DAYS[5]}))[more_portfolios.sold.pk] == DAYS[5]
    # A new USD rate: the ETF (in USD) is held by the four; no EUR-only portfolio is touched.
    assert set(services.valuations_affected(report(fx={"USD": NEW_DAY}))) == {*p.values(), more_portfolios.fresh.pk}
    # Only bookings: only their portfolios, and nothing never valued.
    assert services.valuations_affected(report(portfolios={p["C3001"]: DAYS[2]})) == {p["C3001"]: DAYS[2]}


def test_the_tasks_get_portfolio_and_day_pairs_and_revalue_from_that_day(
    workspace, more_portfolios, django_capture_on_commit_callbacks, monkeypatch
):
    for portfolio in workspace.portfolios.values():
        portfolio_revalue(portfolio_id=portfolio.pk, until=DAYS[-1])
    add_price_day(workspace.market, NEW_DAY)
    monkeypatch.setattr(services, "REVALUE_CHUNK", 3)
    sent = []
    monkeypatch.setattr(portfolios_revalue, "delay", lambda chunk: sent.append(chunk))
    p = workspace.portfolios
    equity, fund = workspace.market.equity.pk, workspace.market.fund.pk
    with django_capture_on_commit_callbacks(execute=True):
        tasks = services.valuations_after_import(
            report(portfolios={p["C1002"].pk: DAYS[20]}, prices={equity: NEW_DAY, fund: NEW_DAY}, fx={"USD": NEW_DAY})
        )
    assert tasks == 2
    assert sent == [
        [
            [p["C1001"].pk, NEW_DAY.isoformat()],
            [p["C1002"].pk, DAYS[20].isoformat()],
            [p["C2001"].pk, NEW_DAY.isoformat()],
        ],
        [[p["C3001"].pk, NEW_DAY.isoformat()], [more_portfolios.fresh.pk, None]],
    ]

    cash_before = stored(more_portfolios.cash.pk)
    kept = set(Valuation.objects.filter(portfolio=p["C1001"]).values_list("pk", flat=True))
    for chunk in sent:
        result = portfolios_revalue.apply(args=[chunk], kwargs={})
        assert result.successful(), result.result
    # (The task values up to yesterday; the new day is in the past of any run.)
    assert kept <= set(Valuation.objects.filter(portfolio=p["C1001"]).values_list("pk", flat=True))
    assert stored(more_portfolios.cash.pk) == cash_before  # not affected, not touched
    once = {pk: stored(pk) for pk in (p["C1001"].pk, p["C1002"].pk)}
    # Idempotent: the same chunk again gives the same rows, as does a full replay (a plain id).
    portfolios_revalue.apply(args=[sent[0]])
    assert {pk: stored(pk) for pk in once} == once
    portfolios_revalue.apply(args=[[p["C1001"].pk, p["C1002"].pk]])
    assert {pk: stored(pk) for pk in once} == once


def test_roll_up_sees_the_incrementally_valued_day(workspace):
    from intermediaries.valuation import revalue_and_roll_up

    ids = [p.pk for p in workspace.portfolios.values()]
    revalue_and_roll_up(portfolio_ids=ids, until=DAYS[-1])
    add_price_day(workspace.market, NEW_DAY)
    revalue_and_roll_up(revalue_from=[(pk, NEW_DAY) for pk in ids], until=NEW_DAY)
    workspace.anna.refresh_from_db()
    portfolio = Portfolio.objects.get(pk=workspace.portfolios["C1001"].pk)
    assert portfolio.valued_on == NEW_DAY
    assert workspace.anna.assets == Valuation.objects.get(portfolio=portfolio, date=NEW_DAY).market_value_eur


def test_a_client_who_moves_broker_leaves_the_old_brokers_book(workspace, cast, django_capture_on_commit_callbacks):
    from intermediaries.models import BookValuation
    from intermediaries.services import valuations_after_import

    def aum(advisor):
        return (
            BookValuation.objects.filter(advisor=advisor)
            .order_by("-date")
            .values_list("market_value", flat=True)
            .first()
        )

    before_old, before_new = aum(cast.broker1), aum(cast.broker2)
    workspace.bert.advisor = cast.broker2
    workspace.bert.save()
    moved = report(portfolios={workspace.portfolios["C1002"].pk: None}, advisors={cast.broker1.pk, cast.broker2.pk})
    with django_capture_on_commit_callbacks(execute=True):
        valuations_after_import(moved)
    bert_value = workspace.portfolios["C1002"].valuations.order_by("-date").first().market_value_eur
    assert aum(cast.broker1) == before_old - bert_value
    assert aum(cast.broker2) == before_new + bert_value
