"""The client statements' figures on a book worked out by hand (tests/reports/conftest.py, fund_book),
read back from the PDFs with pypdf."""

import io
from decimal import Decimal

import pytest
from pypdf import PdfReader

from portal.core.providers import ProviderMissing
from reports import costs, documents, services
from reports.models import Report

from .conftest import Q3_END, Q3_START

pytestmark = pytest.mark.django_db

# 100 units × 100 EUR × 1.00 % a year × 92 days (1 July – 30 September) / 365 = 25.2055 EUR
PRODUCT_COSTS = Decimal("25.21")
# Each day that money came in, the value stayed 10,000: r = 10,000 / (10,000 + inflow) - 1.
TWR = (Decimal(10000) / Decimal(10010)) * (Decimal(10000) / Decimal(10025)) * (Decimal(10000) / Decimal(10005)) - 1


def text_of(report: Report) -> str:
    with report.file.open("rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    # Whitespace made single spaces: a table row reads as its cells in order, a wrapped sentence as one.
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


@pytest.fixture
def issued(media):
    """Issue a statement on schedule and render it, as beat and the worker would."""
    from reports import rendering

    def _issued(client, kind=Report.Kind.STATEMENT, start=Q3_START, end=Q3_END) -> Report:
        (report_id,) = services.statements_issue(kind=kind, period_start=start, period_end=end, client_ids=[client.pk])
        rendering.report_render(report_id)
        return Report.objects.get(pk=report_id)

    return _issued


def test_the_costs_figures_match_the_hand_computed_book(fund_book, media):
    report = Report(kind=Report.Kind.COSTS, client=fund_book.client, period_start=Q3_START, period_end=Q3_END)
    doc = documents.document_build(report)
    assert doc["average_capital"] == Decimal("10000.00")
    rows = {row["key"]: (row["amount"], row["percent"]) for row in doc["rows"]}
    assert rows == {
        "transaction": (Decimal("10.00"), Decimal("0.001")),
        "service": (Decimal("25.00"), Decimal("0.0025")),
        "refunds": (Decimal("0.00"), Decimal("0")),
        "service_total": (Decimal("35.00"), Decimal("0.0035")),
        "product": (PRODUCT_COSTS, Decimal("0.002521")),
    }
    assert doc["costs_total"] == Decimal("60.21") and doc["total_percent"] == Decimal("0.006021")
    assert doc["funds"] == [
        {"isin": "LU0000000016", "instrument": "Demo Balanced Fund", "ter": Decimal("0.01"), "amount": PRODUCT_COSTS}
    ]
    assert doc["taxes"] == Decimal("5.00") and doc["cost_bookings"] == 2
    assert doc["third_party"]["available"] and doc["third_party"]["total"] == Decimal("0.00")
    illustration = doc["illustration"]
    assert abs(illustration["return_after"] - TWR) < Decimal("1e-10")
    assert abs(illustration["return_before"] - (TWR + Decimal("0.006021"))) < Decimal("1e-10")


def test_the_costs_statement_pdf_shows_every_cost_in_money_and_percent(fund_book, issued):
    report = issued(fund_book.client, kind=Report.Kind.COSTS)
    assert report.status == Report.Status.READY and report.requested_by is None
    text = text_of(report)
    assert "Ex-post costs and charges statement" in text and "Emil Ernst (C1003)" in text
    assert "Average invested amount 10,000.00 EUR" in text
    assert "Transaction costs (fees booked with a trade) 10.00 0.100 %" in text
    assert "Service fees (custody, account, advice) 25.00 0.250 %" in text
    assert "Service costs 35.00 0.350 %" in text
    assert "Product costs (ongoing charges of funds) 25.21 0.252 %" in text
    assert "Total costs and charges 60.21 0.602 %" in text
    assert "Demo Balanced Fund LU0000000016 1.00 % 25.21" in text
    assert "Third-party payments (inducements) 0.00 0.000 %" in text
    assert "Taxes withheld (not a cost of the service): 5.00 EUR" in text
    assert "Return after costs (time-weighted) -0.40 %" in text
    assert "Return before costs (approximate) 0.20 %" in text
    assert "Issued on schedule" in text


def test_third_party_payments_are_itemised_and_not_added_to_the_total(fund_book, issued, monkeypatch):
    rows = [{"kind_label": "Trailing commission", "amount": Decimal("12.345")}]
    monkeypatch.setattr(costs, "inducements_source", lambda: lambda **kwargs: rows)
    text = text_of(issued(fund_book.client, kind=Report.Kind.COSTS))
    assert "Trailing commission 12.35 0.124 %" in text  # 12.35 / 10,000 = 0.1235 %
    assert "Third-party payments (inducements) 12.35 0.124 %" in text
    assert "Total costs and charges 60.21 0.602 %" in text


def test_without_the_commissions_app_third_party_payments_are_zero_with_a_note(fund_book, issued, monkeypatch):
    def missing():
        raise ProviderMissing("commissions.disclosure")

    monkeypatch.setattr(costs, "inducements_source", missing)
    text = text_of(issued(fund_book.client, kind=Report.Kind.COSTS))
    assert "Third-party payments (inducements) 0.00" in text
    assert "the commissions module is not installed" in text


def test_the_portfolio_statement_shows_positions_transactions_returns_and_fees(fund_book, issued):
    report = issued(fund_book.client)
    text = text_of(report)
    assert "Client portfolio statement" in text and "Emil Ernst (C1003)" in text
    assert "Value at the start (EUR) 10,000.00" in text and "Value at the end (EUR) 10,000.00" in text
    assert "Time-weighted return, cumulative -0.40 %" in text and "Money-weighted return, cumulative" in text
    assert "p.a." not in text.split("About this document")[0]  # a quarter is never annualised
    assert "P5 Demo Balanced Fund LU0000000016 100 100.00 10,000.00 EUR 100.00 %" in text
    assert text.count("Fee") >= 2 and "Tax" in text and "Deposit" in text
    assert "Transaction costs (fees booked with a trade) 10.00" in text
    assert "Service fees (custody, account, advice) 25.00" in text
    assert "Fees in total 35.00" in text
    assert "Taxes withheld (not a cost of the service) 5.00" in text


def test_a_fund_without_ongoing_charges_adds_no_product_costs(fund_book):
    fund_book.fund.ongoing_charges = None
    fund_book.fund.save()
    assert costs.product_costs(fund_book.client, Q3_START, Q3_END) == {"total": Decimal(0), "funds": []}


def test_product_costs_count_only_the_days_the_fund_was_held(fund_book):
    from datetime import date

    # August alone: 31 days of 10,000 EUR at 1 % a year.
    august = costs.product_costs(fund_book.client, date(2026, 8, 1), date(2026, 8, 31))
    assert august["total"] == Decimal("8.49")  # 10,000 × 0.01 × 31 / 365 = 8.4932
    # Before the purchase nothing is held.
    assert costs.product_costs(fund_book.client, date(2026, 6, 1), date(2026, 6, 30))["total"] == 0


@pytest.mark.parametrize(
    ("annualised", "labels"),
    [
        (None, ["Time-weighted return, cumulative", "Money-weighted return, cumulative"]),
        (
            Decimal("0.03"),
            [
                "Time-weighted return, cumulative",
                "Time-weighted return p.a.",
                "Money-weighted return, cumulative",
                "Money-weighted return p.a.",
            ],
        ),
    ],
)
def test_the_returns_are_cumulative_and_annualised_only_where_the_selectors_give_it(annualised, labels):
    from django.template.loader import render_to_string

    perf = {"twr": Decimal("0.02"), "mwr": Decimal("0.01"), "twr_annualised": annualised, "mwr_annualised": annualised}
    rows = documents._returns(perf)
    assert [row["value"] for row in rows] == [
        v for v in (Decimal("0.02"), annualised, Decimal("0.01"), annualised) if v
    ]
    shown = [render_to_string("reports/pdf/_return_label.html", {"key": row["key"]}) for row in rows]
    assert shown == labels
