"""The core feed's later booking kinds: fee refunds, reversals, write-offs, splits and transfers between
two portfolios of one client -- their columns, their checks (one clear reason per bad row, nothing
written for it) and what they do to the valuations, worked out by hand."""

from datetime import date
from decimal import Decimal

import pytest

from intermediaries import feed
from intermediaries.demo_feed import demo_feed_write, intermediaries_ensure_for_demo_cast
from intermediaries.feed import FeedError, core_feed_import
from intermediaries.models import Holding, Portfolio, Transaction, Valuation
from intermediaries.rollups import client_series
from intermediaries.services import valuations_affected
from intermediaries.valuation import revalue_and_roll_up

from .test_feed import UNTIL, feed_write, read_csv, replay

pytestmark = pytest.mark.django_db

D = Decimal
DAY1, DAY2, DAY3 = date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 4)
HEADER = (
    "transaction_id,portfolio_number,type,trade_date,isin,quantity,price,amount,currency,"
    "reference,ratio,counterpart_portfolio"
)
PORTFOLIOS = """
    portfolio_number,client_number,name,currency,opened_on,status
    P1,C0001,Depot,EUR,2026-11-02,open
    P2,C0001,Savings,EUR,2026-11-02,open
    P3,C0003,Depot,EUR,2026-11-02,open
"""
# SAP splits 2-for-1 on 3 November: its close halves.
PRICES = """
    isin,date,close
    DE0007164600,2026-11-02,120.50
    DE0007164600,2026-11-03,60.50
    DE0007164600,2026-11-04,61.00
    US0378331005,2026-11-02,190.10
"""
ROWS = [
    "T1,P1,deposit,2026-11-02,,,,10000.00,EUR,,,",
    "T2,P1,buy,2026-11-02,DE0007164600,10,120.50,1205.00,EUR,,,",
    "T3,P1,fee,2026-11-02,,,,4.90,EUR,,,",
    "T4,P3,deposit,2026-11-03,,,,500.00,EUR,,,",
    "T5,P1,fee_refund,2026-11-03,,,,1.90,EUR,,,",
    "T6,P1,reversal,2026-11-03,,,,4.90,EUR,T3,,",
    "T7,P1,split,2026-11-03,DE0007164600,,,,EUR,,2,",
    "T8,P1,transfer_out,2026-11-03,DE0007164600,5,,0,EUR,,,P2",
    "T9,P2,transfer_in,2026-11-03,DE0007164600,5,,0,EUR,T8,,P1",
]


@pytest.fixture
def brokers(cast):
    intermediaries_ensure_for_demo_cast()
    return cast


def transactions(*rows: str) -> str:
    return "\n".join([HEADER, *rows]) + "\n"


def import_feed(tmp_path, *rows: str, prices: str = PRICES):
    return core_feed_import(
        directory=feed_write(
            tmp_path,
            portfolios=PORTFOLIOS,
            prices=prices,
            transactions=transactions(*(rows or ROWS)),
        )
    )


def pk(number: str) -> int:
    return Portfolio.objects.get(number=number).pk


def test_the_new_kinds_import_with_their_references(brokers, tmp_path):
    report = import_feed(tmp_path)

    assert report.error_count == 0
    assert report.file("transactions.csv").created == len(ROWS)
    t6, t7, t8, t9 = (Transaction.objects.get(external_id=f"T{n}") for n in (6, 7, 8, 9))
    assert t6.reference.external_id == "T3"
    assert t7.ratio == 2 and t7.quantity == 0 and t7.amount == 0
    assert (t8.counterpart_portfolio.number, t8.reference) == ("P2", None)
    assert (t9.counterpart_portfolio.number, t9.reference) == ("P1", t8)
    # The reversal restates P1 from the cancelled fee's day; the receiving leg marks the sender too.
    assert report.affected_portfolios == {pk("P1"): DAY1, pk("P2"): DAY2, pk("P3"): DAY2}
    # Importing the same files again changes nothing.
    again = import_feed(tmp_path)
    assert (again.file("transactions.csv").created, again.file("transactions.csv").unchanged) == (0, len(ROWS))


def test_a_file_without_the_new_columns_still_imports(brokers, tmp_path):
    report = core_feed_import(directory=feed_write(tmp_path))  # BASE: the nine columns of the first version

    assert report.error_count == 0
    assert Transaction.objects.filter(ratio__isnull=True, reference__isnull=True).count() == 4


def test_the_bookings_are_valued_as_worked_out_by_hand(brokers, tmp_path):
    """P1, 2 November: 10000 in, 10 SAP bought for 1205; the fee of 4.90 is reversed, so it never was.
    Cash 8795 + 10 x 120.50 = 10000, r = 0.

    P1, 3 November: 1.90 of fees refunded (income): cash 8796.90. SAP splits 2-for-1: 20 units at
    60.50 = 1210 (the split itself moves nothing; the close rose from 60.25 to 60.50 a unit).
    5 units go to P2 at 5 x 60.50 = 302.50, an outflow of P1 at the end of the day: V = 8796.90
    + 15 x 60.50 = 9704.40, r = (9704.40 + 302.50) / 10000 - 1 = 0.00069. The 5 units take
    1205 x 5/20 = 301.25 of cost with them.

    P2, 3 November: an inflow of 302.50, V = 302.50, r = 0; its 5 SAP cost 301.25.

    The client (P1 + P2) on 3 November: V = 10006.90 and no flow (the transfer stays inside):
    r = 10006.90 / 10000 - 1 = 0.00069 as well.
    """
    import_feed(tmp_path)

    revalue_and_roll_up(portfolio_ids=[pk("P1"), pk("P2")], until=DAY2)

    p1 = Valuation.objects.filter(portfolio__number="P1").order_by("date")
    assert [(v.date, v.market_value, v.inflow, v.outflow, v.internal_outflow_eur) for v in p1] == [
        (DAY1, D("10000.00"), D("10000.00"), 0, 0),
        (DAY2, D("9704.40"), 0, D("302.50"), D("302.50")),
    ]
    assert p1[1].daily_return == D("0.00069")
    p2 = Valuation.objects.get(portfolio__number="P2")
    assert (p2.market_value, p2.inflow, p2.internal_inflow_eur, p2.daily_return) == (
        D("302.50"),
        D("302.50"),
        D("302.50"),
        0,
    )
    assert list(Holding.objects.filter(valid_to__isnull=True).order_by("portfolio__number").values_list(
        "portfolio__number", "quantity", "cost"
    )) == [("P1", D(15), D("903.75")), ("P2", D(5), D("301.25"))]  # fmt: skip
    client = client_series(client_id=Portfolio.objects.get(number="P1").client_id)
    assert [(v.market_value, v.inflow, v.outflow, v.daily_return) for v in client] == [
        (D("10000.00"), D("10000.00"), 0, 0),
        (D("10006.90"), 0, 0, D("0.00069")),
    ]


def test_a_write_off_takes_the_position_out_at_no_value(brokers, tmp_path):
    """P1, 2 November: 10000 in, 10 SAP for 1205, a fee of 4.90: cash 8790.10, V = 8790.10 + 1205 = 9995.10.
    3 November: the 10 SAP are written off: nothing held, V = 8790.10 -- no outflow, so the day's
    return is the loss: r = 8790.10 / 9995.10 - 1 = -0.1205590339."""
    import_feed(tmp_path, *ROWS[:4], "T10,P1,write_off,2026-11-03,DE0007164600,10,,,EUR,,,")

    revalue_and_roll_up(portfolio_ids=[pk("P1")], until=DAY2)

    day2 = Valuation.objects.get(portfolio__number="P1", date=DAY2)
    assert (day2.market_value, day2.outflow) == (D("8790.10"), 0)
    assert day2.daily_return == (D("8790.10") / D("9995.10") - 1).quantize(D("0.000000000001"))
    assert not Holding.objects.filter(portfolio__number="P1", valid_to__isnull=True).exists()


BAD_ROWS = [
    ("T20,P1,reversal,2026-11-03,,,,4.90,EUR,NOPE,,", "reference 'NOPE' is no booking imported before"),
    ("T20,P1,reversal,2026-11-03,,,,4.90,EUR,,,", "a reversal needs the transaction_id of the booking it cancels"),
    ("T20,P1,reversal,2026-11-03,,,,1.00,EUR,T20,,", "a booking cannot refer to itself"),
    ("T20,P3,reversal,2026-11-03,,,,4.90,EUR,T3,,", "reference T3 is a booking of portfolio P1, not of P3"),
    ("T20,P1,reversal,2026-11-03,,,,5.00,EUR,T1,,", "amount 5.00 EUR differs from the reversed booking's 10000.00 EUR"),
    ("T20,P3,reversal,2026-11-02,,,,500.00,EUR,T4,,", "a reversal cannot be dated before the booking it cancels"),
    ("T20,P1,reversal,2026-11-04,,,,4.90,EUR,T6,,", "reference T6 is itself a reversal"),
    ("T20,P1,reversal,2026-11-04,,,,4.90,EUR,T3,,", "T3 is already reversed by T6"),
    ("T20,P1,reversal,2026-11-04,DE0007164600,5,,0,EUR,T8,,", "transfer_out T8 was received by transfer_in T9"),
    ("T20,P1,split,2026-11-04,DE0007164600,,,,EUR,,-2,", "a split needs a ratio greater than 0 (units after per unit before), not -2"),
    ("T20,P1,split,2026-11-04,DE0007164600,,,,EUR,,0,", "a split needs a ratio greater than 0"),
    ("T20,P1,split,2026-11-04,DE0007164600,,,,EUR,,1,", "a split with a ratio of 1 changes nothing"),
    ("T20,P1,split,2026-11-04,DE0007164600,,,,EUR,,,", "ratio is empty"),
    ("T20,P1,split,2026-11-04,,,,,EUR,,2,", "a split needs an isin"),
    ("T20,P1,split,2026-11-04,DE0007164600,5,,,EUR,,2,", "quantity must be empty: a split's new quantity follows"),
    ("T20,P1,split,2026-11-04,DE0007164600,,,100.00,EUR,,2,", "amount must be empty: a split moves no cash"),
    ("T20,P1,buy,2026-11-04,DE0007164600,1,120,120.00,EUR,,2,", "ratio is only for a split"),
    ("T20,P1,write_off,2026-11-04,DE0007164600,,,,EUR,,,", "quantity is empty"),
    ("T20,P1,write_off,2026-11-04,DE0007164600,5,,50.00,EUR,,,", "amount must be empty: a write_off moves no cash"),
    ("T20,P1,transfer_out,2026-11-04,DE0007164600,1,,0,EUR,,,P3", "counterpart_portfolio P3 belongs to another client"),
    ("T20,P1,transfer_out,2026-11-04,DE0007164600,1,,0,EUR,,,P404", "unknown counterpart_portfolio 'P404'"),
    ("T20,P1,transfer_out,2026-11-04,DE0007164600,1,,0,EUR,,,P1", "counterpart_portfolio is the booking's own portfolio"),
    ("T20,P1,deposit,2026-11-04,,,,1.00,EUR,,,P2", "counterpart_portfolio is only for transfer_in and transfer_out"),
    ("T20,P2,transfer_in,2026-11-03,DE0007164600,5,,0,EUR,,,P1", "a transfer_in from another portfolio of the client needs"),
    ("T20,P2,transfer_in,2026-11-03,DE0007164600,5,,0,EUR,T8,,", "a transfer_in with a reference needs the portfolio"),
    ("T20,P2,transfer_in,2026-11-02,DE0007164600,10,,0,EUR,T2,,P1", "reference T2 is a buy, not a transfer_out"),
    ("T20,P2,transfer_in,2026-11-03,DE0007164600,4,,0,EUR,T8,,P1", "transfer_out T8 moves 5.00000000 of DE0007164600"),
    ("T20,P2,transfer_in,2026-11-04,DE0007164600,5,,0,EUR,T8,,P1", "transfer_out T8 is dated 2026-11-03"),
    ("T20,P2,transfer_in,2026-11-03,DE0007164600,5,,0,EUR,T8,,P1", "T8 is already received by T9"),
    ("T20,P3,transfer_in,2026-11-03,DE0007164600,5,,0,EUR,T8,,P1", "counterpart_portfolio P1 belongs to another client"),
    ("T20,P1,buy,2026-11-04,DE0007164600,1,120,120.00,EUR,T2,,", "reference is only for a reversal and for a transfer_in"),
]  # fmt: skip


@pytest.mark.parametrize(("row", "reason"), BAD_ROWS, ids=[reason for _, reason in BAD_ROWS])
def test_a_bad_row_of_a_new_kind_is_refused_with_its_reason_and_nothing_of_it_is_written(
    brokers, tmp_path, row, reason
):
    report = import_feed(tmp_path, *ROWS, row)

    errors = report.file("transactions.csv").errors
    assert [(e.line, e.reason[: len(reason)]) for e in errors] == [(len(ROWS) + 2, reason)], errors
    assert report.file("transactions.csv").created == len(ROWS)
    assert not Transaction.objects.filter(external_id="T20").exists()


def test_a_reference_must_come_before_its_row_and_may_come_from_an_earlier_import(brokers, tmp_path):
    late = import_feed(tmp_path, "T6,P1,reversal,2026-11-03,,,,4.90,EUR,T3,,", *ROWS[:3])
    assert late.file("transactions.csv").errors == [
        FeedError(
            "transactions.csv",
            2,
            "reference 'T3' is no booking imported before: it must be in the database or on an earlier line of this file",
        )
    ]
    # The next day's file may cancel what an earlier file booked.
    report = import_feed(tmp_path, "T6,P1,reversal,2026-11-03,,,,4.90,EUR,T3,,")
    assert report.error_count == 0
    assert report.affected_portfolios == {pk("P1"): DAY1}


def test_references_reach_across_batches_of_one_file(brokers, tmp_path, monkeypatch):
    monkeypatch.setattr(feed.importer, "BATCH_SIZE", 2)

    report = import_feed(tmp_path)

    assert report.error_count == 0
    assert Transaction.objects.get(external_id="T9").reference.external_id == "T8"


def test_a_transfer_between_portfolios_is_undone_receiving_leg_first(brokers, tmp_path):
    import_feed(tmp_path)
    refused = import_feed(tmp_path, "T11,P1,reversal,2026-11-04,DE0007164600,5,,0,EUR,T8,,")
    assert (
        refused.file("transactions.csv").errors[0].reason.startswith("transfer_out T8 was received by transfer_in T9")
    )

    report = import_feed(
        tmp_path,
        "T10,P2,reversal,2026-11-04,,,,0,EUR,T9,,",
        "T11,P1,reversal,2026-11-04,DE0007164600,5,,0,EUR,T8,,",
    )

    assert report.error_count == 0
    # Both portfolios are restated from the transfer's day.
    assert report.affected_portfolios == {pk("P1"): DAY2, pk("P2"): DAY2}
    assert valuations_affected(report) == {pk("P1"): DAY2, pk("P2"): DAY2}
    revalue_and_roll_up(portfolio_ids=[pk("P1"), pk("P2")], until=DAY3)
    assert not Valuation.objects.filter(portfolio__number="P2").exists()
    assert Holding.objects.get(portfolio__number="P1", valid_to__isnull=True).quantity == 20


def test_the_receiving_leg_in_a_later_file_restates_the_sending_portfolio(brokers, tmp_path):
    import_feed(tmp_path, *ROWS[:8])

    report = import_feed(tmp_path, ROWS[8])

    assert report.affected_portfolios == {pk("P2"): DAY2, pk("P1"): DAY2}


def test_the_header_may_leave_out_the_new_columns_but_not_the_old_ones(brokers, tmp_path):
    header = HEADER.replace("amount,", "")
    report = core_feed_import(directory=feed_write(tmp_path, portfolios=PORTFOLIOS, transactions=f"{header}\n"))

    (error,) = report.file("transactions.csv").errors
    assert error.reason == (
        "the header lacks amount; expected the columns transaction_id,portfolio_number,type,trade_date,isin,"
        "quantity,price,amount,currency (and optionally reference,ratio,counterpart_portfolio)"
    )


# --- The demo feed --------------------------------------------------------------------------------------------


@pytest.fixture
def small_feed(tmp_path):
    demo_feed_write(directory=tmp_path / "small", scale="small", until=UNTIL)
    return tmp_path / "small"


def test_the_named_clients_show_the_later_booking_kinds(small_feed):
    rows = read_csv(small_feed / "transactions.csv")
    by_id = {r["transaction_id"]: r for r in rows}
    # C0001 (P0001-01): a fee booked in error and reversed, a fee refund, and Nordwerk split 2-for-1.
    p1 = [r for r in rows if r["portfolio_number"] == "P0001-01"]
    (reversal,) = [r for r in p1 if r["type"] == "reversal"]
    cancelled = by_id[reversal["reference"]]
    assert (cancelled["type"], cancelled["portfolio_number"], cancelled["amount"]) == (
        "fee",
        "P0001-01",
        reversal["amount"],
    )
    assert any(r["type"] == "fee_refund" for r in p1)
    nordwerk = next(r["isin"] for r in read_csv(small_feed / "instruments.csv") if r["name"].startswith("Nordwerk"))
    assert [(r["isin"], r["ratio"]) for r in p1 if r["type"] == "split"] == [(nordwerk, "2")]
    # Every portfolio holding Nordwerk the day before books the split.
    split_day = next(r["trade_date"] for r in p1 if r["type"] == "split")
    before = {number: [held for day, _, held in history if day < split_day] for number, history in replay(rows).items()}
    holders = {number for number, held in before.items() if held and held[-1].get(nordwerk)}
    assert holders == {r["portfolio_number"] for r in rows if r["type"] == "split"}
    # C0002: all of a position moves from P0002-02 to P0002-03, the receiving leg referring to the sending one.
    (sent,) = [r for r in rows if r["type"] == "transfer_out" and r["counterpart_portfolio"]]
    (received,) = [r for r in rows if r["type"] == "transfer_in" and r["reference"]]
    assert (sent["portfolio_number"], sent["counterpart_portfolio"]) == ("P0002-02", "P0002-03")
    assert (received["portfolio_number"], received["counterpart_portfolio"]) == ("P0002-03", "P0002-02")
    assert received["reference"] == sent["transaction_id"]
    assert (received["trade_date"], received["isin"], received["quantity"]) == (
        sent["trade_date"],
        sent["isin"],
        sent["quantity"],
    )
    # C0003 (P0003-02): Kranich Solar is delisted and written off; it has no close after that day.
    kranich = next(r["isin"] for r in read_csv(small_feed / "instruments.csv") if r["name"].startswith("Kranich"))
    (write_off,) = [r for r in rows if r["type"] == "write_off"]
    assert (write_off["portfolio_number"], write_off["isin"]) == ("P0003-02", kranich)
    last_close = max(r["date"] for r in read_csv(small_feed / "prices.csv") if r["isin"] == kranich)
    assert last_close == write_off["trade_date"]
