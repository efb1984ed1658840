"""The commission list of a firm manager: titled for the firm, totals per currency of the filtered rows,
and a CSV export through the same FilterSet (a bad filter is the same 400; nobody exports another's rows)."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from commissions.models import Statement

pytestmark = pytest.mark.django_db

LIST = "/commissions/"
EXPORT = "/commissions/export.csv"


def statement(broker, firm, month, total, *, currency="EUR", status=Statement.Status.ACCRUED):
    return Statement.objects.create(
        beneficiary=broker,
        firm=firm,
        period=date(2026, month, 1),
        currency=currency,
        status=status,
        upfront=Decimal(total) - 1,
        trailing=Decimal(1),
        total=Decimal(total),
        accrual_count=3,
    )


@pytest.fixture
def statements(cast):
    return {
        "b1_sep": statement(cast.broker1, cast.alpha, 9, "100.00", status=Statement.Status.PAID),
        "b1_oct": statement(cast.broker1, cast.alpha, 10, "50.25"),
        "b2_sep": statement(cast.broker2, cast.alpha, 9, "20.00", currency="CHF"),
        "b3_sep": statement(cast.broker3, cast.beta, 9, "999.00"),
    }


def rows_of(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_a_firm_manager_sees_the_list_titled_for_the_firm(cast, login_as, statements, firm_view_permission):
    html = login_as(cast.manager).get(LIST).content.decode()
    assert '<h1 class="h3 mb-0" data-testid="statement-list-title">Commissions of Alpha Invest</h1>' in html
    assert "<title>Commissions of Alpha Invest" in html


def test_a_broker_and_a_manager_without_the_permission_see_plain_commissions(cast, login_as, statements):
    for who in (cast.broker1, cast.manager):
        html = login_as(who).get(LIST).content.decode()
        assert 'data-testid="statement-list-title">Commissions</h1>' in html
        assert "Alpha Invest" not in html.split('data-testid="statement-list-title"')[1].split("</h1>")[0]


def test_the_totals_add_up_the_filtered_rows_per_currency(cast, login_as, statements, firm_view_permission):
    client = login_as(cast.manager)
    html = client.get(LIST).content.decode()
    eur = html.split('data-testid="statement-total-EUR"')[1].split("</tr>")[0]
    chf = html.split('data-testid="statement-total-CHF"')[1].split("</tr>")[0]
    assert "Total of 2 statements" in eur and "150.25 EUR" in eur  # never Beta Capital's 999
    assert "Total of 1 statement" in chf and "20.00 CHF" in chf

    paid = client.get(LIST, {"status": "paid"}).content.decode()
    assert "100.00 EUR" in paid.split('data-testid="statement-total-EUR"')[1].split("</tr>")[0]
    assert 'data-testid="statement-total-CHF"' not in paid


def test_a_bad_filter_shows_no_totals(cast, login_as, statements, firm_view_permission):
    response = login_as(cast.manager).get(LIST, {"year": "soon"})
    assert response.status_code == 400
    assert 'data-testid="statement-totals"' not in response.content.decode()


def test_the_export_holds_the_filtered_rows_of_the_firm_only(cast, login_as, statements, firm_view_permission):
    client = login_as(cast.manager)
    html = client.get(LIST, {"year": "2026", "status": "accrued"}).content.decode()
    assert f'href="{EXPORT}?year=2026&amp;status=accrued"' in html

    response = client.get(EXPORT, {"status": "accrued"})
    assert response["Content-Disposition"] == 'attachment; filename="commissions.csv"'
    rows = rows_of(response)
    assert rows[0] == [
        "Month",
        "Person",
        "E-mail",
        "Firm",
        "Upfront",
        "Trailing",
        "Fixed",
        "Override",
        "Total",
        "Currency",
        "Payout status",
        "Entries",
    ]
    assert sorted((r[0], r[2], r[8], r[9]) for r in rows[1:]) == [
        ("2026-09", "broker2@example.com", "20", "CHF"),
        ("2026-10", "broker1@example.com", "50.25", "EUR"),
    ]


def test_a_broker_exports_only_their_own_statements(cast, login_as, statements):
    rows = rows_of(login_as(cast.broker2).get(EXPORT))
    assert [r[2] for r in rows[1:]] == ["broker2@example.com"]


def test_the_export_refuses_a_bad_filter_with_the_lists_error(cast, login_as, statements):
    response = login_as(cast.broker1).get(EXPORT, {"year": "soon"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_clients_and_outsiders_get_no_export(cast, login_as, statements):
    assert login_as(cast.client1).get(EXPORT).status_code == 403
    assert login_as(cast.outsider).get(EXPORT).status_code == 403


def test_the_list_with_totals_runs_the_same_queries_for_few_and_many_rows(
    cast, login_as, statements, firm_view_permission
):
    client = login_as(cast.manager)
    client.get(LIST)
    with CaptureQueriesContext(connection) as few:
        client.get(LIST)
    for month in range(1, 9):
        statement(cast.broker1, cast.alpha, month, "7.00")
        statement(cast.broker2, cast.alpha, month, "3.00", currency="USD")
    with CaptureQueriesContext(connection) as many:
        client.get(LIST)
    assert len(many) == len(few)
