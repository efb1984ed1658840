"""What core systems send besides trades, valued by hand: fee refunds, reversals, write-offs, splits,
transfers between two portfolios of one client.

Pure Python, no database. The calendar is January 2024, which starts on a Monday. Each test's
docstring works the figures out with a pencil; the last tests check that a replay resumed after
any day gives the same figures with these bookings too.
"""

from datetime import date
from decimal import Decimal

import pytest

from intermediaries.performance import (
    DayValue,
    Flag,
    HoldingSpan,
    PerformanceInputError,
    Txn,
    aggregate,
    effective,
    fallback_prices,
    money_weighted,
    twr,
    value_portfolio,
)

from .test_incremental import assert_resumes_everywhere

D = Decimal
TOLERANCE = D("1e-8")
MON, TUE, WED, THU, FRI = (date(2024, 1, d) for d in range(1, 6))
AAA, BBB = 1, 4  # an EUR share; in test_incremental's calendar 4 is an EUR share with no close
CCY = {AAA: "EUR", BBB: "EUR"}


def txn(n, kind, day, amount="0", *, instrument=None, quantity="0", price="0", currency="EUR", **extra):
    return Txn(n, kind, day, instrument, D(quantity), D(price), D(amount), currency, **extra)


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


def figures(days):
    """(date, value, inflow, outflow, daily return rounded, index rounded, flags) per day."""
    places = D("0.0000000001")
    return [
        (
            v.date,
            v.market_value,
            v.inflow,
            v.outflow,
            v.daily_return.quantize(places),
            v.twr_index.quantize(places),
            v.flags,
        )
        for v in days
    ]


def r(value):
    return D(value).quantize(D("0.0000000001"))


def test_a_fee_refund_is_income_not_a_flow():
    """MON 1000 in. TUE a fee of 10: V = 990, r = -1 %. WED 4 of it refunded: V = 994,
    r = 994 / 990 - 1 = 0.0040404040. No flow after Monday; the refund names a share never held,
    which is no "income without a position" (it is a cost given back, not a dividend)."""
    history = value(
        [
            txn(1, "deposit", MON, "1000"),
            txn(2, "fee", TUE, "10"),
            txn(3, "fee_refund", WED, "4", instrument=AAA),
        ],
        until=WED,
    )
    assert figures(history.days) == [
        (MON, 1000, 1000, 0, r(0), r(1), 0),
        (TUE, 990, 0, 0, r("-0.01"), r("0.99"), 0),
        (WED, 994, 0, 0, r(D(994) / D(990) - 1), r("0.994"), 0),
    ]


def test_a_reversal_undoes_its_booking_from_the_bookings_day_on():
    """MON 1000 in. TUE 10 AAA bought for 1000 and 500 deposited; WED the buy and THU the deposit
    are reversed. AAA rises 100 -> 110 -> 120 -> 130, which the portfolio never had: as if neither
    booking had been made, it holds 1000 in cash all week, returns 0 and has no holding span."""
    bookings = [
        txn(1, "deposit", MON, "1000"),
        txn(2, "buy", TUE, "1000", instrument=AAA, quantity="10", price="100"),
        txn(3, "deposit", TUE, "500"),
        txn(4, "reversal", WED, "1000", reference_id=2),
        txn(5, "reversal", THU, "500", reference_id=3),
    ]
    history = value(bookings, until=THU, prices={AAA: closes((MON, 100), (TUE, 110), (WED, 120), (THU, 130))})
    assert figures(history.days) == [(d, 1000, 1000 if d == MON else 0, 0, r(0), r(1), 0) for d in (MON, TUE, WED, THU)]
    assert history.holdings == []
    # Without its booking (a resumed replay does not see it) a reversal is simply left out.
    assert effective(bookings[3:]) == []
    assert effective(bookings) == bookings[:1]


def test_a_write_off_is_a_loss_not_a_withdrawal():
    """MON 1500 in, 10 AAA bought for 1000: V = 500 + 1000 = 1500. TUE AAA collapses to 20:
    V = 500 + 200 = 700, r = 700 / 1500 - 1 = -0.5333333333. WED the 10 worthless shares are
    written off: V = 500, r = 500 / 700 - 1 = -0.2857142857 and no outflow. Index 1/3: the
    time-weighted return is -2/3, and so is the money-weighted one (1500 in, 500 left)."""
    history = value(
        [
            txn(1, "deposit", MON, "1500"),
            txn(2, "buy", MON, "1000", instrument=AAA, quantity="10", price="100"),
            txn(3, "write_off", WED, instrument=AAA, quantity="10"),
        ],
        prices={AAA: closes((MON, 100), (TUE, 20), (WED, "0.5"))},
        until=WED,
    )
    assert figures(history.days) == [
        (MON, 1500, 1500, 0, r(0), r(1), 0),
        (TUE, 700, 0, 0, r(D(700) / D(1500) - 1), r(D(700) / D(1500)), 0),
        (WED, 500, 0, 0, r(D(500) / D(700) - 1), r(D(1) / D(3)), 0),
    ]
    assert history.holdings == [HoldingSpan(AAA, MON, WED, D(10), D(1000))]
    assert close_to(twr(history.days, MON, WED), D(-2) / D(3))
    assert close_to(money_weighted(history.days, MON, WED), D(-2) / D(3))


def test_a_split_changes_the_quantity_not_the_value_or_the_cost():
    """MON 10 AAA for 1000 (close 100). TUE close 104: V = 1040, r = 4 %. WED a 2-for-1 split, the
    close halves to 52.5: 20 units, V = 1050, r = 1050 / 1040 - 1 = 0.0096153846 -- the split itself
    moves nothing. THU close 53: V = 1060, index 1.06. The cost stays 1000 for the 20 units."""
    history = value(
        [
            txn(1, "deposit", MON, "1000"),
            txn(2, "buy", MON, "1000", instrument=AAA, quantity="10", price="100"),
            txn(3, "split", WED, instrument=AAA, ratio=D(2)),
        ],
        prices={AAA: closes((MON, 100), (TUE, 104), (WED, "52.5"), (THU, 53))},
        until=THU,
    )
    assert figures(history.days) == [
        (MON, 1000, 1000, 0, r(0), r(1), 0),
        (TUE, 1040, 0, 0, r("0.04"), r("1.04"), 0),
        (WED, 1050, 0, 0, r(D(1050) / D(1040) - 1), r("1.05"), 0),
        (THU, 1060, 0, 0, r(D(1060) / D(1050) - 1), r("1.06"), 0),
    ]
    assert history.holdings == [HoldingSpan(AAA, MON, WED, D(10), D(1000)), HoldingSpan(AAA, WED, None, D(20), D(1000))]


def test_a_reverse_split_and_its_fraction_paid_in_cash():
    """MON 10 AAA for 1000. TUE a 1-for-4 reverse split (ratio 0.25): 2.5 units, close 400, V = 1000.
    The core system pays the half unit out: a sale of 0.5 at 400 = 200. 2 units at 400 + 200 cash = 1000.
    The cost falls with the sale in proportion: 1000 x (1 - 0.5 / 2.5) = 800 for 2 units."""
    history = value(
        [
            txn(1, "deposit", MON, "1000"),
            txn(2, "buy", MON, "1000", instrument=AAA, quantity="10", price="100"),
            txn(3, "split", TUE, instrument=AAA, ratio=D("0.25")),
            txn(4, "sell", TUE, "200", instrument=AAA, quantity="0.5", price="400"),
        ],
        prices={AAA: closes((MON, 100), (TUE, 400))},
        until=TUE,
    )
    assert [(v.market_value, v.cash, v.daily_return) for v in history.days] == [(1000, 0, 0), (1000, 200, 0)]
    assert history.holdings[-1] == HoldingSpan(AAA, TUE, None, D(2), D(800))


def test_a_split_divides_the_price_a_position_is_valued_at_while_it_has_no_close():
    """10 BBB bought at 50 on MON, and no close ever: worth 10 x 50 = 500 (STALE_PRICE). A 2-for-1
    split on TUE: 20 units at 50 / 2 = 25, still 500 -- and a resumed replay knows the 25 too."""
    bookings = [
        txn(1, "deposit", MON, "500"),
        txn(2, "buy", MON, "500", instrument=BBB, quantity="10", price="50"),
        txn(3, "split", TUE, instrument=BBB, ratio=D(2)),
    ]
    history = value(bookings, until=WED)
    assert [(v.market_value, v.flags) for v in history.days] == [(500, Flag.STALE_PRICE)] * 3
    assert fallback_prices(bookings, through=TUE) == {BBB: (D(25), "EUR")}


def test_a_split_needs_a_positive_ratio():
    with pytest.raises(PerformanceInputError, match="ratio greater than 0"):
        value([txn(1, "split", MON, instrument=AAA, ratio=D(0))], until=MON)


def test_a_transfer_between_two_portfolios_is_a_flow_of_each_but_not_of_the_client():
    """Portfolio A: MON 1000 in, 10 AAA bought at 80 (cost 800): V = 200 + 800 = 1000.
    TUE (close 100) the 10 AAA go to portfolio B of the same client, valued at 10 x 100 = 1000:
    A has V = 200, an outflow of 1000 at the end of the day, r = (200 + 1000) / 1000 - 1 = 0.2, and
    hands on its cost of 800. B: an inflow of 1000 at the start of TUE, V = 1000, r = 0; it keeps
    the cost of 800 (unrealised gain 200 as in A). WED (close 110): B has V = 1100, r = 0.1.

    The client (A + B): MON V = 1000; TUE V = 200 + 1000 = 1200 and no flow: r = 0.2; WED
    V = 1300, r = 1300 / 1200 - 1 = 0.0833333333. Counting the transfer as a flow would have given
    TUE r = (1200 + 1000) / (1000 + 1000) - 1 = 10 %."""
    prices = {AAA: closes((MON, 80), (TUE, 100), (WED, 110))}
    a = value(
        [
            txn(1, "deposit", MON, "1000"),
            txn(2, "buy", MON, "800", instrument=AAA, quantity="10", price="80"),
            txn(3, "transfer_out", TUE, instrument=AAA, quantity="10", internal=True),
        ],
        prices=prices,
        until=WED,
    )
    b = value(
        [
            txn(7, "transfer_in", TUE, instrument=AAA, quantity="10", internal=True, reference_id=3,
                carried_cost=a.carried_costs[3], carried_currency="EUR"),
        ],
        prices=prices,
        until=WED,
    )  # fmt: skip
    assert a.carried_costs == {3: D(800)}
    assert [(v.market_value, v.outflow, v.internal_outflow, v.daily_return) for v in a.days] == [
        (1000, 0, 0, 0),
        (200, 1000, 1000, D("0.2")),
        (200, 0, 0, 0),
    ]
    assert [(v.market_value, v.inflow, v.internal_inflow, v.daily_return) for v in b.days] == [
        (1000, 1000, 1000, 0),
        (1100, 0, 0, D("0.1")),
    ]
    assert b.holdings == [HoldingSpan(AAA, TUE, None, D(10), D(800))]
    client = aggregate([a.days, b.days])
    assert [(v.market_value, v.inflow, v.outflow) for v in client] == [(1000, 1000, 0), (1200, 0, 0), (1300, 0, 0)]
    assert close_to(client[1].daily_return, "0.2")
    assert close_to(client[2].daily_return, D(1300) / D(1200) - 1)


def test_the_cost_carried_into_a_portfolio_in_another_currency_is_converted():
    """The 800 EUR of cost arrive in a USD portfolio at 1.25 USD per EUR: 1000 USD. Without a
    carried cost (the sending portfolio not valued yet) the units come in at their value, 1250 USD."""
    fx = {"USD": closes((TUE, "1.25"))}
    prices = {AAA: closes((TUE, 100))}

    def receipt(carried):
        leg = txn(7, "transfer_in", TUE, instrument=AAA, quantity="10", internal=True, reference_id=3,
                  carried_cost=carried, carried_currency="EUR")  # fmt: skip
        return value([leg], prices=prices, fx=fx, currency="USD", until=TUE).holdings

    assert receipt(D(800)) == [HoldingSpan(AAA, TUE, None, D(10), D(1000))]
    assert receipt(None) == [HoldingSpan(AAA, TUE, None, D(10), D(1250))]


# --------------------------------------------------------------------------------------------
# Resumed after any day: the same figures (see test_incremental)
# --------------------------------------------------------------------------------------------


def test_every_new_kind_resumes_anywhere():
    from .test_incremental import closes as dated
    from .test_incremental import day

    calendar = [day(n) for n in range(22)]
    prices = {1: dated(*[(d, D(100) + n) for n, d in enumerate(calendar) if d.weekday() < 5 and n != 9])}
    prices[1] = [(d, c / 2 if d >= day(10) else c) for d, c in prices[1]]
    bookings = [
        txn(1, "deposit", day(0), "5000"),
        txn(2, "buy", day(0), "2000", instrument=1, quantity="20", price="100"),
        txn(3, "buy", day(1), "1000", instrument=4, quantity="10", price="100"),  # 4 never has a close
        txn(4, "fee", day(2), "12.5"),
        txn(5, "fee_refund", day(3), "2.5"),
        txn(6, "reversal", day(7), "12.5", reference_id=4),
        txn(7, "split", day(8), instrument=4, ratio=D(3)),
        txn(8, "split", day(10), instrument=1, ratio=D(2)),
        txn(9, "transfer_out", day(14), instrument=1, quantity="15", internal=True),
        txn(10, "transfer_in", day(15), instrument=1, quantity="5", internal=True, reference_id=99,
            carried_cost=D("333.33"), carried_currency="USD"),
        txn(11, "write_off", day(17), instrument=4, quantity="30"),
        txn(12, "buy", day(18), "400", instrument=1, quantity="6", price="66"),
        txn(13, "reversal", day(21), "400", reference_id=12),
    ]  # fmt: skip
    fx = {"USD": dated((day(0), "1.1"), (day(15), "1.2"))}
    full = assert_resumes_everywhere(bookings, until=day(21), prices=prices, fx=fx)
    assert full.carried_costs == {9: D(750)}  # 15 of 40 units after the split, of a cost of 2000
    # The share without a close is valued at its buy price, split: 30 units at 100 / 3 until written off.
    assert [v.flags & Flag.STALE_PRICE for v in full.days if day(1) <= v.date < day(17)] == [Flag.STALE_PRICE] * 12


def test_a_day_value_without_internal_flows_is_what_it_was():
    # Rows built with the first eight fields (as stored rows and older callers do) have no internal flows.
    v = DayValue(MON, D(1), D(0), D(1), D(0), D(0), D(1), 0)
    assert (v.internal_inflow, v.internal_outflow) == (0, 0)
