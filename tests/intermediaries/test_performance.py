"""The performance arithmetic, worked by hand.

Pure Python: no database, no ORM. Every expected figure is worked out in a comment above the
assertion so a person can check it with a pencil. The calendar is January 2024, which starts on
a Monday: MON = 1 Jan, TUE = 2 Jan, ... and so on.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from intermediaries.performance import (
    DayValue,
    Flag,
    HoldingSpan,
    PerformanceInputError,
    Txn,
    aggregate,
    annualise,
    money_weighted,
    mwr,
    period_bounds,
    twr,
    value_portfolio,
    xirr,
)

D = Decimal
TOLERANCE = D("1e-8")

MON = date(2024, 1, 1)
TUE = date(2024, 1, 2)
WED = date(2024, 1, 3)
THU = date(2024, 1, 4)
FRI = date(2024, 1, 5)
SAT = date(2024, 1, 6)
NEXT_MON = date(2024, 1, 8)

AAA = 1  # an EUR share
BBB = 2  # a USD share
CCY = {AAA: "EUR", BBB: "USD"}

_ids = iter(range(1, 1_000_000))


def txn(kind, day, amount="0", *, instrument=None, quantity="0", price="0", currency="EUR"):
    return Txn(
        id=next(_ids),
        type=kind,
        trade_date=day,
        instrument_id=instrument,
        quantity=D(quantity),
        price=D(price),
        amount=D(amount),
        currency=currency,
    )


def closes(*pairs):
    return [(day, D(close)) for day, close in pairs]


def value(transactions, *, until, prices=None, fx=None, currency="EUR"):
    return value_portfolio(
        currency=currency,
        transactions=transactions,
        prices=prices or {},
        instrument_currency=CCY,
        fx=fx or {},
        until=until,
    )


def close_to(actual, expected):
    return abs(D(actual) - D(expected)) < TOLERANCE


def assert_days(days, expected):
    """`expected` is a list of (date, market value, daily return, twr index, flags)."""
    assert [d.date for d in days] == [e[0] for e in expected]
    for day, (when, market_value, daily_return, index, flags) in zip(days, expected, strict=True):
        assert close_to(day.market_value, market_value), (when, day.market_value, market_value)
        assert close_to(day.daily_return, daily_return), (when, day.daily_return, daily_return)
        assert close_to(day.twr_index, index), (when, day.twr_index, index)
        assert day.flags == flags, (when, Flag(day.flags), Flag(flags))


def row(day, market_value, inflow="0", outflow="0", flags=0, cash="0", index="1"):
    return DayValue(day, D(market_value), D(cash), D(inflow), D(outflow), D(0), D(index), int(flags))


# --------------------------------------------------------------------------------------------
# value_portfolio
# --------------------------------------------------------------------------------------------


def test_it_values_a_simple_buy_and_hold_over_three_days():
    history = value(
        [txn("deposit", MON, "1000"), txn("buy", MON, "1000", instrument=AAA, quantity="10", price="100")],
        prices={AAA: closes((MON, "100"), (TUE, "105"), (WED, "99.75"))},
        until=WED,
    )
    # MON: cash 1000 - 1000 = 0, 10 x 100 = 1000. In = 1000 at the start: r = 1000 / (0 + 1000) - 1 = 0
    # TUE: 10 x 105 = 1050.  r = 1050 / 1000 - 1 = 0.05, index 1.05
    # WED: 10 x 99.75 = 997.5. r = 997.5 / 1050 - 1 = -0.05, index 1.05 x 0.95 = 0.9975
    assert_days(
        history.days,
        [
            (MON, "1000", "0", "1", 0),
            (TUE, "1050", "0.05", "1.05", 0),
            (WED, "997.5", "-0.05", "0.9975", 0),
        ],
    )
    assert history.currency == "EUR"
    assert [d.cash for d in history.days] == [0, 0, 0]
    assert [d.inflow for d in history.days] == [1000, 0, 0]


def test_it_counts_a_deposit_at_the_start_of_the_day_and_a_withdrawal_at_the_end():
    history = value(
        [
            txn("deposit", MON, "1000"),
            txn("buy", MON, "1000", instrument=AAA, quantity="10", price="100"),
            txn("deposit", TUE, "500"),
            txn("withdrawal", WED, "200"),
        ],
        prices={AAA: closes((MON, "100"), (TUE, "110"), (WED, "121"))},
        until=WED,
    )
    # MON: V = 10 x 100 = 1000, r = 1000 / (0 + 1000) - 1 = 0
    # TUE: the 500 arrives at the start and earns nothing; the shares gain 100.
    #      V = 1100 + 500 = 1600, r = 1600 / (1000 + 500) - 1 = 1/15 = 0.0666666667, index 16/15
    # WED: the 200 leaves at the end, after the shares gained 110.
    #      V = 1210 + 300 = 1510, r = (1510 + 200) / 1600 - 1 = 0.06875, index 16/15 x 1.06875 = 1.14
    assert_days(
        history.days,
        [
            (MON, "1000", "0", "1", 0),
            (TUE, "1600", D(1) / D(15), D(16) / D(15), 0),
            (WED, "1510", "0.06875", "1.14", 0),
        ],
    )
    assert [(d.inflow, d.outflow, d.cash) for d in history.days] == [(1000, 0, 0), (500, 0, 500), (0, 200, 300)]


def test_it_restarts_the_return_when_an_emptied_portfolio_is_refilled():
    history = value(
        [
            txn("deposit", MON, "1000"),
            txn("buy", MON, "1000", instrument=AAA, quantity="10", price="100"),
            txn("sell", TUE, "1100", instrument=AAA, quantity="10", price="110"),
            txn("withdrawal", TUE, "1100"),
            txn("deposit", THU, "2000"),
            txn("buy", THU, "2000", instrument=AAA, quantity="20", price="100"),
        ],
        prices={AAA: closes((MON, "100"), (TUE, "110"), (WED, "105"), (THU, "100"), (FRI, "102"))},
        until=FRI,
    )
    # MON: V = 1000, r = 0
    # TUE: sold for 1100 and withdrew 1100 at the end: V = 0. r = (0 + 1100) / 1000 - 1 = 0.1  -> EMPTIED
    # WED: nothing held, V = 0, V_prev + In = 0: no return (0), no division by zero -> NO_START_VALUE
    # THU: 2000 in, bought 20 x 100: V = 2000, r = 2000 / (0 + 2000) - 1 = 0
    # FRI: 20 x 102 = 2040, r = 2040 / 2000 - 1 = 0.02. Index 1.1 x 1 x 1 x 1.02 = 1.122
    assert_days(
        history.days,
        [
            (MON, "1000", "0", "1", 0),
            (TUE, "0", "0.1", "1.1", Flag.EMPTIED),
            (WED, "0", "0", "1.1", Flag.NO_START_VALUE),
            (THU, "2000", "0", "1.1", 0),
            (FRI, "2040", "0.02", "1.122", 0),
        ],
    )


def test_it_books_a_buy_and_a_sell_of_the_same_instrument_on_the_same_day():
    history = value(
        [
            txn("deposit", MON, "1000"),
            txn("buy", MON, "1000", instrument=AAA, quantity="10", price="100"),
            txn("sell", MON, "1020", instrument=AAA, quantity="10", price="102"),
        ],
        prices={AAA: closes((MON, "101"), (TUE, "105"))},
        until=TUE,
    )
    # MON: cash 1000 - 1000 + 1020 = 1020, nothing held at the end (the close of 101 does not matter).
    #      r = 1020 / 1000 - 1 = 0.02
    # TUE: still 1020 in cash, r = 0
    assert_days(history.days, [(MON, "1020", "0.02", "1.02", 0), (TUE, "1020", "0", "1.02", 0)])
    # The quantity is 0 at the end of both days, so there is no holding span.
    assert history.holdings == []


def test_it_flags_a_dividend_for_a_position_already_sold():
    history = value(
        [
            txn("deposit", MON, "1000"),
            txn("buy", MON, "1000", instrument=AAA, quantity="10", price="100"),
            txn("sell", TUE, "1000", instrument=AAA, quantity="10", price="100"),
            txn("withdrawal", TUE, "1000"),
            txn("dividend", WED, "5", instrument=AAA),
        ],
        prices={AAA: closes((MON, "100"), (TUE, "100"), (WED, "100"), (THU, "100"))},
        until=THU,
    )
    # MON: V = 1000, r = 0
    # TUE: sold at 100, withdrew everything: V = 0, r = (0 + 1000) / 1000 - 1 = 0, EMPTIED
    # WED: a dividend of 5 for a position of 0: V = 5 but V_prev + In = 0 + 0 -> r = 0,
    #      INCOME_WITHOUT_POSITION (16) | NO_START_VALUE (2); the dividend is not an inflow
    # THU: V = 5, r = 5 / 5 - 1 = 0
    assert_days(
        history.days,
        [
            (MON, "1000", "0", "1", 0),
            (TUE, "0", "0", "1", Flag.EMPTIED),
            (WED, "5", "0", "1", Flag.INCOME_WITHOUT_POSITION | Flag.NO_START_VALUE),
            (THU, "5", "0", "1", 0),
        ],
    )
    assert history.days[2].inflow == 0


def test_it_takes_a_zero_return_on_a_day_with_no_starting_value():
    history = value(
        [txn("fee", MON, "10"), txn("deposit", TUE, "1000"), txn("interest", WED, "9.9")],
        until=WED,
    )
    # MON: a fee of 10 before any money: V = -10, V_prev + In = 0 -> r = 0, NO_START_VALUE | NEGATIVE_CASH
    # TUE: 1000 in at the start: V = 990, r = 990 / (-10 + 1000) - 1 = 0
    # WED: interest 9.9 (performance, not a flow): V = 999.9, r = 999.9 / 990 - 1 = 0.01
    assert_days(
        history.days,
        [
            (MON, "-10", "0", "1", Flag.NO_START_VALUE | Flag.NEGATIVE_CASH),
            (TUE, "990", "0", "1", 0),
            (WED, "999.9", "0.01", "1.01", 0),
        ],
    )


def test_it_flags_negative_cash_when_a_buy_is_larger_than_the_cash():
    history = value(
        [
            txn("deposit", MON, "500"),
            txn("buy", MON, "1000", instrument=AAA, quantity="10", price="100"),
            txn("deposit", WED, "500"),
        ],
        prices={AAA: closes((MON, "100"), (TUE, "110"), (WED, "110"))},
        until=WED,
    )
    # MON: cash 500 - 1000 = -500, shares 1000: V = 500, r = 500 / (0 + 500) - 1 = 0, NEGATIVE_CASH
    # TUE: V = -500 + 1100 = 600, r = 600 / 500 - 1 = 0.2 (the overdraft leverages), NEGATIVE_CASH
    # WED: 500 in covers the overdraft: cash 0, V = 1100, r = 1100 / (600 + 500) - 1 = 0, no flag
    assert_days(
        history.days,
        [
            (MON, "500", "0", "1", Flag.NEGATIVE_CASH),
            (TUE, "600", "0.2", "1.2", Flag.NEGATIVE_CASH),
            (WED, "1100", "0", "1.2", 0),
        ],
    )
    assert [d.cash for d in history.days] == [-500, -500, 0]


def test_it_carries_a_missing_price_forward_and_flags_it_stale():
    history = value(
        [txn("deposit", MON, "1000"), txn("buy", MON, "1000", instrument=AAA, quantity="10", price="100")],
        prices={AAA: closes((MON, "100"), (WED, "104"))},
        until=WED,
    )
    # MON: 10 x 100 = 1000, r = 0
    # TUE: no close: MON's 100 is used: V = 1000, r = 0, STALE_PRICE
    # WED: 10 x 104 = 1040, r = 1040 / 1000 - 1 = 0.04
    assert_days(
        history.days,
        [(MON, "1000", "0", "1", 0), (TUE, "1000", "0", "1", Flag.STALE_PRICE), (WED, "1040", "0.04", "1.04", 0)],
    )


def test_it_values_a_position_with_no_close_yet_at_its_purchase_price():
    history = value(
        [txn("deposit", MON, "500"), txn("buy", MON, "500", instrument=AAA, quantity="10", price="50")],
        prices={AAA: closes((WED, "55"))},
        until=WED,
    )
    # MON, TUE: no close at all yet: the buy price 50 is used: 10 x 50 = 500, STALE_PRICE, r = 0
    # WED: the first close: 10 x 55 = 550, r = 550 / 500 - 1 = 0.1
    assert_days(
        history.days,
        [
            (MON, "500", "0", "1", Flag.STALE_PRICE),
            (TUE, "500", "0", "1", Flag.STALE_PRICE),
            (WED, "550", "0.1", "1.1", 0),
        ],
    )


def test_it_converts_a_foreign_instrument_at_the_days_fx_rate_and_carries_a_missing_rate_forward():
    history = value(
        [
            txn("deposit", MON, "1000"),
            txn("buy", MON, "1100", instrument=BBB, quantity="10", price="110", currency="USD"),
        ],
        prices={BBB: closes((MON, "110"), (TUE, "110"), (WED, "125"))},
        fx={"USD": closes((MON, "1.10"), (TUE, "1.25"))},
        until=WED,
    )
    # Rates are USD per 1 EUR; USD -> EUR is amount / rate_USD x rate_EUR (= 1).
    # MON: the buy costs 1100 / 1.10 = 1000 EUR, cash 0; 10 x 110 / 1.10 = 1000. r = 0
    # TUE: the dollar weakens: 10 x 110 / 1.25 = 880. r = 880 / 1000 - 1 = -0.12, index 0.88
    # WED: no rate: TUE's 1.25 carried forward, MISSING_FX. 10 x 125 / 1.25 = 1000.
    #      r = 1000 / 880 - 1 = 0.1363636364, index 0.88 x 1000/880 = 1
    assert_days(
        history.days,
        [
            (MON, "1000", "0", "1", 0),
            (TUE, "880", "-0.12", "0.88", 0),
            (WED, "1000", D(120) / D(880), "1", Flag.MISSING_FX),
        ],
    )
    assert history.days[0].cash == 0


def test_it_converts_between_two_foreign_currencies_through_the_euro():
    history = value(
        [txn("deposit", MON, "100", currency="USD")],
        fx={"USD": closes((MON, "1.25")), "CHF": closes((MON, "0.95"))},
        currency="CHF",
        until=MON,
    )
    # 100 USD / 1.25 USD per EUR = 80 EUR; x 0.95 CHF per EUR = 76 CHF
    assert close_to(history.days[0].market_value, "76")
    assert close_to(history.days[0].inflow, "76")


def test_it_refuses_an_amount_in_a_currency_without_any_rate():
    with pytest.raises(PerformanceInputError, match="No FX rate for USD"):
        value([txn("deposit", MON, "100", currency="USD")], fx={"USD": closes((TUE, "1.1"))}, until=TUE)


def test_it_values_transfers_in_and_out_at_market_as_external_flows():
    history = value(
        [
            txn("transfer_in", MON, instrument=AAA, quantity="10"),
            txn("transfer_out", WED, instrument=AAA, quantity="4"),
            txn("transfer_in", THU, "600", instrument=AAA, quantity="5"),
        ],
        prices={AAA: closes((MON, "100"), (TUE, "110"), (WED, "121"), (THU, "121"))},
        until=THU,
    )
    # MON: 10 shares come in, no stated amount: valued at 10 x 100 = 1000, an inflow at the start.
    #      V = 1000, r = 1000 / (0 + 1000) - 1 = 0
    # TUE: V = 10 x 110 = 1100, r = 0.1
    # WED: 4 shares leave at the end at 4 x 121 = 484. V = 6 x 121 = 726. r = (726 + 484) / 1100 - 1 = 0.1
    # THU: 5 shares come in at the stated 600 (market would be 605). V = 11 x 121 = 1331.
    #      r = 1331 / (726 + 600) - 1 = 5 / 1326 = 0.0037707391; index 1.21 x 1331/1326
    assert_days(
        history.days,
        [
            (MON, "1000", "0", "1", 0),
            (TUE, "1100", "0.1", "1.1", 0),
            (WED, "726", "0.1", "1.21", 0),
            (THU, "1331", D(5) / D(1326), D("1.21") * D(1331) / D(1326), 0),
        ],
    )
    assert [(d.inflow, d.outflow, d.cash) for d in history.days] == [(1000, 0, 0), (0, 0, 0), (0, 484, 0), (600, 0, 0)]
    # Cost: 1000 in; 4 of 10 out leaves 1000 x 6/10 = 600; 600 more in: 1200 for 11 shares.
    assert history.holdings == [
        HoldingSpan(AAA, MON, WED, D(10), D(1000)),
        HoldingSpan(AAA, WED, THU, D(6), D(600)),
        HoldingSpan(AAA, THU, None, D(11), D(1200)),
    ]


def test_it_lowers_the_return_by_fees_and_taxes_which_are_not_flows():
    history = value(
        [txn("deposit", MON, "1000"), txn("fee", TUE, "10"), txn("tax", WED, "9.9")],
        until=WED,
    )
    # MON: V = 1000, r = 0
    # TUE: fee 10: V = 990, r = 990 / 1000 - 1 = -0.01
    # WED: tax 9.9: V = 980.1, r = 980.1 / 990 - 1 = -0.01; index 0.99 x 0.99 = 0.9801
    assert_days(
        history.days,
        [(MON, "1000", "0", "1", 0), (TUE, "990", "-0.01", "0.99", 0), (WED, "980.1", "-0.01", "0.9801", 0)],
    )
    assert all(d.outflow == 0 for d in history.days)


def test_it_keeps_track_of_holding_spans_and_average_cost_after_partial_sells():
    history = value(
        [
            txn("deposit", MON, "10000"),
            txn("buy", MON, "1000", instrument=AAA, quantity="10", price="100"),
            txn("buy", WED, "1300", instrument=AAA, quantity="10", price="130"),
            txn("sell", THU, "700", instrument=AAA, quantity="5", price="140"),
            txn("sell", FRI, "2100", instrument=AAA, quantity="15", price="140"),
            txn("buy", NEXT_MON, "100", instrument=AAA, quantity="1", price="100"),
        ],
        prices={AAA: closes((MON, "100"), (WED, "130"), (THU, "140"), (FRI, "140"), (NEXT_MON, "100"))},
        until=NEXT_MON,
    )
    # MON: 10 for 1000.                    -> span MON.. qty 10, cost 1000
    # WED: 10 more for 1300: 20 for 2300 (average 115).        -> span WED.. qty 20, cost 2300
    # THU: sell 5 of 20: cost 2300 x (1 - 5/20) = 1725 (still 115 each) -> span THU.. qty 15, cost 1725
    # FRI: sell the last 15: nothing held, cost 0: the span closes and none opens
    # NEXT MON: 1 for 100                  -> span NEXT_MON.. (open) qty 1, cost 100
    assert history.holdings == [
        HoldingSpan(AAA, MON, WED, D(10), D(1000)),
        HoldingSpan(AAA, WED, THU, D(20), D(2300)),
        HoldingSpan(AAA, THU, FRI, D(15), D(1725)),
        HoldingSpan(AAA, NEXT_MON, None, D(1), D(100)),
    ]
    # The weekend carries no booking, so it is not a valuation day.
    assert [d.date for d in history.days] == [MON, TUE, WED, THU, FRI, NEXT_MON]


def test_it_lets_a_sale_of_more_than_is_held_go_short_and_flags_it():
    history = value(
        [
            txn("deposit", MON, "1000"),
            txn("buy", MON, "1000", instrument=AAA, quantity="10", price="100"),
            txn("sell", TUE, "1500", instrument=AAA, quantity="15", price="100"),
        ],
        prices={AAA: closes((MON, "100"), (TUE, "100"))},
        until=TUE,
    )
    # TUE: 15 sold of 10: quantity -5, cash 1500. V = 1500 + (-5 x 100) = 1000, r = 0, SHORT_POSITION (64)
    assert_days(history.days, [(MON, "1000", "0", "1", 0), (TUE, "1000", "0", "1", Flag.SHORT_POSITION)])
    # Nothing long is left, so the short span carries no cost.
    assert history.holdings[-1] == HoldingSpan(AAA, TUE, None, D(-5), D(0))


def test_it_adds_a_weekend_day_with_a_booking_and_ignores_bookings_after_until():
    history = value(
        [txn("deposit", FRI, "100"), txn("deposit", SAT, "50"), txn("deposit", NEXT_MON + timedelta(1), "7")],
        until=NEXT_MON,
    )
    # FRI and NEXT_MON are weekdays, SAT carries a booking, SUN does not; TUE 9 Jan is after `until`.
    # FRI V = 100; SAT V = 150, r = 150 / (100 + 50) - 1 = 0; NEXT_MON V = 150
    assert_days(history.days, [(FRI, "100", "0", "1", 0), (SAT, "150", "0", "1", 0), (NEXT_MON, "150", "0", "1", 0)])


def test_it_refuses_an_unknown_booking_type():
    with pytest.raises(PerformanceInputError, match="unknown type 'gift'"):
        value([txn("gift", MON, "1")], until=MON)


# --------------------------------------------------------------------------------------------
# aggregate
# --------------------------------------------------------------------------------------------


def test_it_aggregates_two_portfolios_into_one_time_weighted_series():
    a = [row(MON, "1000", inflow="1000"), row(TUE, "1100", flags=Flag.STALE_PRICE)]  # no row on WED
    b = [row(TUE, "500", inflow="500"), row(WED, "450", outflow="100", flags=Flag.MISSING_FX)]
    # MON: only A: V = 1000, In = 1000, r = 1000 / (0 + 1000) - 1 = 0
    # TUE: V = 1100 + 500 = 1600, In = 500: r = 1600 / (1000 + 500) - 1 = 1/15, index 16/15
    # WED: A carries 1100 forward, no flows: V = 1100 + 450 = 1550, Out = 100:
    #      r = (1550 + 100) / 1600 - 1 = 0.03125; index 16/15 x 1.03125 = 1.1
    # Flags: A's STALE_PRICE on TUE, B's MISSING_FX on WED.
    combined = aggregate([a, b])
    assert_days(
        combined,
        [
            (MON, "1000", "0", "1", 0),
            (TUE, "1600", D(1) / D(15), D(16) / D(15), Flag.STALE_PRICE),
            (WED, "1550", "0.03125", "1.1", Flag.MISSING_FX),
        ],
    )
    assert [(d.inflow, d.outflow) for d in combined] == [(1000, 0), (500, 0), (0, 100)]


def test_it_does_not_call_a_book_emptied_when_one_member_is_emptied():
    a = [row(MON, "1000", inflow="1000"), row(TUE, "0", outflow="1000", flags=Flag.EMPTIED)]
    b = [row(MON, "1000", inflow="1000"), row(TUE, "1100")]
    # TUE: V = 0 + 1100, Out = 1000: r = (1100 + 1000) / 2000 - 1 = 0.05; the book still has value.
    combined = aggregate([a, b])
    assert_days(combined, [(MON, "2000", "0", "1", 0), (TUE, "1100", "0.05", "1.05", 0)])


def test_it_converts_members_with_rates_when_asked():
    eur = [row(MON, "1000", inflow="1000"), row(TUE, "1000")]
    usd = [row(MON, "1250", inflow="1250"), row(TUE, "1250")]
    # USD per EUR: MON 1.25, TUE 1.00. MON: 1000 + 1250/1.25 = 2000, In 2000, r = 0
    # TUE: 1000 + 1250/1.00 = 2250, r = 2250 / 2000 - 1 = 0.125 (the dollar's rise)
    combined = aggregate([eur, usd], rates=[None, closes((MON, "1.25"), (TUE, "1.00"))])
    assert_days(combined, [(MON, "2000", "0", "1", 0), (TUE, "2250", "0.125", "1.125", 0)])


# --------------------------------------------------------------------------------------------
# Period figures
# --------------------------------------------------------------------------------------------


def test_it_chains_the_index_over_a_sub_period():
    series = [
        row(MON, "1000", index="1"),
        row(TUE, "1600", index=D(16) / D(15)),
        row(WED, "1510", index="1.14"),
    ]
    # WED only: 1.14 / (16/15) - 1 = 0.06875
    assert close_to(twr(series, WED, WED), "0.06875")
    # TUE..WED: base is MON's index 1: 1.14 / 1 - 1 = 0.14
    assert close_to(twr(series, TUE, WED), "0.14")
    # From before inception: the index before the first day is 1: 0.14
    assert close_to(twr(series, MON - timedelta(30), WED), "0.14")
    # An end on a weekend uses the last day before it: TUE..SAT = TUE..WED... = 0.14
    assert close_to(twr(series, TUE, SAT), "0.14")


def test_it_annualises_a_return():
    # 21 % over two years: 1.21 ** (365 / 730) - 1 = sqrt(1.21) - 1 = 0.1
    assert close_to(annualise(D("0.21"), 730), "0.1")
    # 10 % over 73 days (a fifth of a year): 1.1 ** 5 - 1 = 1.61051 - 1 = 0.61051
    assert close_to(annualise(D("0.1"), 73), "0.61051")
    # A total loss stays a total loss
    assert annualise(D("-1"), 100) == -1


def test_it_finds_the_internal_rate_of_return():
    # -1000 now, +1100 in exactly 365 days: 1100 / 1000 - 1 = 10 %
    assert close_to(xirr([(date(2023, 1, 1), D(-1000)), (date(2024, 1, 1), D(1100))]), "0.1")
    # A 10 % bond: -1000, +100 after a year, +1100 after two: 100/1.1 + 1100/1.21 = 90.91 + 909.09 = 1000
    flows = [(date(2021, 1, 1), D(-1000)), (date(2022, 1, 1), D(100)), (date(2023, 1, 1), D(1100))]
    assert close_to(xirr(flows), "0.1")


def test_it_falls_back_to_bisection_when_newton_overshoots():
    # -1000 now, +10 in a year: 10 / 1000 - 1 = -99 %. Newton from 10 % jumps below -100 %.
    assert close_to(xirr([(date(2023, 1, 1), D(-1000)), (date(2024, 1, 1), D(10))]), "-0.99")


def test_it_returns_no_internal_rate_without_a_sign_change():
    assert xirr([(date(2023, 1, 1), D(1000)), (date(2024, 1, 1), D(1100))]) is None
    assert xirr([]) is None


def test_it_computes_the_money_weighted_return_of_a_period():
    series = [
        row(date(2023, 12, 29), "1000", inflow="1000"),
        row(date(2024, 1, 1), "1000"),
        row(date(2024, 12, 31), "1100"),
    ]
    # From inception: the 1000 comes in at the start of 29 Dec 2023, which is the close of 28 Dec;
    # +1100 at the close of 31 Dec 2024, 369 days later: the XIRR rate is 1.1 ** (365/369) - 1 ...
    assert close_to(mwr(series, date(2023, 12, 29), date(2024, 12, 31)), D("1.1") ** (D(365) / D(369)) - 1)
    # ... and over those days that is 1100 / 1000 - 1 = 10 % (not annualised).
    assert close_to(money_weighted(series, date(2023, 12, 29), date(2024, 12, 31)), "0.1")
    # 2024 only: the value at the close of 31 Dec 2023 (-1000), +1100 at the close of 31 Dec 2024:
    # 366 days of a leap year, so the rate per 365 days is 1.1 ** (365/366) - 1; the year's return is 10 %.
    assert close_to(mwr(series, date(2024, 1, 1), date(2024, 12, 31)), D("1.1") ** (D(365) / D(366)) - 1)
    assert close_to(money_weighted(series, date(2024, 1, 1), date(2024, 12, 31)), "0.1")


def test_it_gives_the_bounds_of_each_period():
    today = date(2024, 5, 15)
    inception = date(2020, 3, 10)
    assert period_bounds("MTD", today, inception) == (date(2024, 5, 1), today)
    assert period_bounds("YTD", today, inception) == (date(2024, 1, 1), today)
    # 1Y starts the day after 15 May 2023, so the base is the close of 15 May 2023
    assert period_bounds("1Y", today, inception) == (date(2023, 5, 16), today)
    assert period_bounds("3Y", today, inception) == (date(2021, 5, 16), today)
    assert period_bounds("MAX", today, inception) == (inception, today)


def test_it_starts_a_period_no_earlier_than_inception():
    today = date(2024, 5, 15)
    assert period_bounds("3Y", today, date(2024, 5, 10)) == (date(2024, 5, 10), today)
    # A leap day: one year back is 28 Feb 2023, so 1Y starts on 1 March 2023
    assert period_bounds("1Y", date(2024, 2, 29), date(2020, 1, 1)) == (date(2023, 3, 1), date(2024, 2, 29))
    with pytest.raises(PerformanceInputError, match="Unknown period"):
        period_bounds("5Y", today, date(2020, 1, 1))
