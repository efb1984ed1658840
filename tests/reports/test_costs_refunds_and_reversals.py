"""Reversed bookings and fee refunds in the costs, on the hand-computed book (tests/reports/conftest.py).

Emil's Q3 2026 (fund_book): a fee of 10 with the purchase on 1 July (transaction cost), a fee of
25 on 14 August (service fee), a tax of 5 on 1 September. Added here:

    20 Aug   fee 40, reversed on 21 Aug                 -> never booked: not a cost
    29 Sep   fee 12, reversed on 2 Oct (after Q3)       -> never booked: not a cost
    15 Sep   fee refund 5 (and 5 withdrawn that day)    -> subtracted from the service costs
    16 Sep   fee refund 7, reversed on 17 Sep           -> never booked: not subtracted
    18 Sep   tax 3, reversed on 18 Sep                  -> never booked: not a tax

Service costs 10 + 25 - 5 = 30.00; with the product costs of 25.21 the total is 55.21. The value
stays 10,000 every day (the reversed bookings count as never booked, the refund is withdrawn), so
each amount is also its share of the average invested amount of 10,000.
"""

from datetime import date
from decimal import Decimal

import pytest

from intermediaries.valuation import revalue_and_roll_up
from reports import costs, documents
from reports.models import Report
from tests.intermediaries.conftest import book

from .conftest import Q3_END, Q3_START
from .test_statements import PRODUCT_COSTS, text_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def corrected_book(fund_book):
    portfolio = fund_book.portfolio
    for txn_id, kind, day, amount, reversed_on in [
        ("R-1", "fee", date(2026, 8, 20), "40", date(2026, 8, 21)),
        ("R-3", "fee", date(2026, 9, 29), "12", date(2026, 10, 2)),
        ("R-5", "fee_refund", date(2026, 9, 16), "7", date(2026, 9, 17)),
        ("R-7", "tax", date(2026, 9, 18), "3", date(2026, 9, 18)),
    ]:
        original = book(txn_id, portfolio, kind, day, amount)
        reversal = book(f"{txn_id}-rev", portfolio, "reversal", reversed_on, amount)
        reversal.reference = original
        reversal.save(update_fields=["reference"])
    book("R-9", portfolio, "fee_refund", date(2026, 9, 15), "5")
    book("R-10", portfolio, "withdrawal", date(2026, 9, 15), "5")
    revalue_and_roll_up(portfolio_ids=[portfolio.pk], until=date(2026, 10, 5))
    return fund_book


def test_reversed_fees_are_left_out_and_refunds_subtracted(corrected_book):
    assert costs.service_costs(corrected_book.client, Q3_START, Q3_END) == {
        "transaction": Decimal("10.00"),
        "service": Decimal("25.00"),
        "refunds": Decimal("5.00"),
        "total": Decimal("30.00"),
        "taxes": Decimal("5.00"),
        "bookings": 2,
    }


def test_the_costs_statement_shows_the_refund_as_its_own_line(corrected_book):
    report = Report(kind=Report.Kind.COSTS, client=corrected_book.client, period_start=Q3_START, period_end=Q3_END)
    doc = documents.document_build(report)
    assert doc["average_capital"] == Decimal("10000.00")
    rows = {row["key"]: (row["amount"], row["percent"]) for row in doc["rows"]}
    assert rows == {
        "transaction": (Decimal("10.00"), Decimal("0.001")),
        "service": (Decimal("25.00"), Decimal("0.0025")),
        "refunds": (Decimal("-5.00"), Decimal("-0.0005")),
        "service_total": (Decimal("30.00"), Decimal("0.003")),
        "product": (PRODUCT_COSTS, Decimal("0.002521")),
    }
    assert doc["costs_total"] == Decimal("55.21") and doc["total_percent"] == Decimal("0.005521")
    assert doc["taxes"] == Decimal("5.00") and doc["cost_bookings"] == 2


def test_the_pdfs_show_the_net_fees(corrected_book, media):
    from reports import rendering, services

    ids = services.statements_issue(
        kind=Report.Kind.COSTS, period_start=Q3_START, period_end=Q3_END, client_ids=[corrected_book.client.pk]
    ) + services.statements_issue(
        kind=Report.Kind.STATEMENT, period_start=Q3_START, period_end=Q3_END, client_ids=[corrected_book.client.pk]
    )
    for report_id in ids:
        rendering.report_render(report_id)
    charges, statement = (text_of(Report.objects.get(pk=pk)) for pk in ids)
    assert "Fees refunded -5.00 -0.050 %" in charges
    assert "Service costs 30.00 0.300 %" in charges and "Total costs and charges 55.21 0.552 %" in charges
    assert "Fees refunded − 5.00" in statement and "Fees in total 30.00" in statement
    assert "Taxes withheld (not a cost of the service) 5.00" in statement
