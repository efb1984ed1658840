"""Commission pages and endpoints: the month list, a statement's breakdown and entries, drill-down,
CSV, filters (bad ones refused), and query counts that do not grow with the data."""

import csv
import io
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from drf_spectacular.validation import validate_schema

from commissions import services
from commissions.models import Accrual, Statement
from tests.intermediaries.conftest import DAYS, book

from .conftest import OCTOBER, SEPTEMBER

pytestmark = pytest.mark.django_db


@pytest.fixture
def accrued(cast, workspace, plans):
    services.month_accrue(period=SEPTEMBER)
    services.month_accrue(period=OCTOBER)
    return Statement.objects.get(beneficiary=cast.broker1, period=SEPTEMBER)


def test_the_month_list_shows_each_month_with_its_total_and_status(cast, login_as, accrued):
    html = login_as(cast.broker1).get("/commissions/").content.decode()
    assert "September 2026" in html and "October 2026" in html
    assert "Accrued" in html
    assert f"/commissions/{accrued.pk}/" in html


def test_the_list_filters_by_status_and_refuses_a_bad_filter(cast, login_as, accrued):
    client = login_as(cast.broker1)
    assert "September 2026" not in client.get("/commissions/", {"status": "paid"}).content.decode()
    response = client.get("/commissions/", {"year": "soon"})
    assert 'data-testid="filter-errors"' in response.content.decode()
    assert client.get("/api/v1/commissions/", {"status": "bogus"}).status_code == 400


def test_a_statement_breaks_down_by_client_and_product_and_drills_down_to_the_source(
    cast, login_as, accrued, workspace
):
    client = login_as(cast.broker1)
    html = client.get(f"/commissions/{accrued.pk}/").content.decode()
    assert "Anna Albers" in html and "Bert Brandt" in html
    assert "SAP SE" in html and "Whole portfolio" in html
    upfront = Accrual.objects.filter(
        statement=accrued, kind="upfront", client=workspace.anna, asset_class="equity"
    ).get()
    detail = client.get(f"/commissions/entries/{upfront.pk}/").content.decode()
    assert upfront.source_transaction.external_id in detail and "Buy" in detail
    trailing = Accrual.objects.filter(statement=accrued, kind="trailing", date=date(2026, 9, 4)).first()
    detail = client.get(f"/commissions/entries/{trailing.pk}/").content.decode()
    assert "Valuation of portfolio" in detail and "3 days" in detail


def test_the_entries_filter_by_kind_and_client_with_htmx(cast, login_as, accrued, workspace):
    client = login_as(cast.broker1)
    partial = client.get(f"/commissions/{accrued.pk}/", {"kind": "fixed"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and "Fixed per event" in partial and "Trailing" not in partial
    by_client = client.get(f"/commissions/{accrued.pk}/", {"client": workspace.bert.pk}, HTTP_HX_REQUEST="true")
    assert "Anna Albers" not in by_client.content.decode()


def test_the_csv_export_lists_every_entry_with_its_source(cast, login_as, accrued):
    response = login_as(cast.broker1).get(f"/commissions/{accrued.pk}/export.csv")
    assert response["Content-Disposition"] == 'attachment; filename="commissions-2026-09.csv"'
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["Date", "Days", "Kind"]
    assert len(rows) - 1 == accrued.accrual_count
    assert {r[-1].split(":")[0] for r in rows[1:]} == {"txn", "val"}


def test_the_pdf_is_404_until_the_month_is_closed(cast, login_as, accrued):
    assert login_as(cast.broker1).get(f"/commissions/{accrued.pk}/statement.pdf").status_code == 404
    assert login_as(cast.broker1).get(f"/api/v1/commissions/{accrued.pk}/pdf/").status_code == 404


def test_the_api_lists_statements_and_entries_with_their_sources(cast, login_as, accrued, workspace):
    client = login_as(cast.broker1)
    body = client.get("/api/v1/commissions/", {"month": "2026-09-01"}).json()
    assert [s["id"] for s in body["results"]] == [accrued.pk]
    detail = client.get(f"/api/v1/commissions/{accrued.pk}/").json()
    assert detail["total"] == str(accrued.total) and detail["status"] == "accrued"
    assert {row["client_number"] for row in detail["by_client"]} == {"C1001", "C1002"}
    entries = client.get("/api/v1/commissions/accruals/", {"statement": accrued.pk, "kind": "upfront"}).json()
    assert entries["count"] == 4 and all(e["source_transaction"] for e in entries["results"])
    one = client.get(f"/api/v1/commissions/accruals/{entries['results'][0]['id']}/").json()
    assert one["transaction"]["type"] == "buy"
    assert client.get("/api/v1/commissions/accruals/", {"date_from": "yesterday"}).status_code == 400


def test_the_schema_documents_the_commission_endpoints_and_validates(client, db):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    validate_schema(schema)
    for path in ("/api/v1/commissions/", "/api/v1/commissions/{statement_id}/", "/api/v1/commissions/accruals/"):
        assert path in schema["paths"]
    params = {p["name"] for p in schema["paths"]["/api/v1/commissions/accruals/"]["get"]["parameters"]}
    assert {"kind", "client", "statement", "page"} <= params


def grow(workspace, n):
    """n more bookings (buys) for Anna in September: more entries, the same pages."""
    for i in range(n):
        book(
            f"G{i}", workspace.portfolios["C1001"], "buy", DAYS[3 + i % 15], "100", workspace.market.equity, "1", "100"
        )


@pytest.mark.parametrize(
    "url",
    [
        "/commissions/",
        "/commissions/{s}/",
        "/api/v1/commissions/",
        "/api/v1/commissions/{s}/",
        "/api/v1/commissions/accruals/",
    ],
)
def test_pages_and_endpoints_run_the_same_queries_for_small_and_large_months(cast, login_as, workspace, plans, url):
    client = login_as(cast.broker1)
    services.month_accrue(period=SEPTEMBER)
    statement = Statement.objects.get(beneficiary=cast.broker1, period=SEPTEMBER)
    target = url.format(s=statement.pk)
    client.get(target)
    with CaptureQueriesContext(connection) as small:
        assert client.get(target).status_code == 200
    grow(workspace, 40)
    services.month_accrue(period=SEPTEMBER)
    with CaptureQueriesContext(connection) as large:
        assert client.get(target).status_code == 200
    assert len(large) == len(small)


def test_a_reversed_entry_range_is_a_400(cast, login_as, accrued):
    client = login_as(cast.broker1)
    response = client.get("/api/v1/commissions/accruals/", {"date_from": "2026-09-30", "date_to": "2026-09-01"})
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"date_to": ["“To” must not be before “From”."]}
    good = client.get("/api/v1/commissions/accruals/", {"date_from": "2026-09-01", "date_to": "2026-09-01"})
    assert good.status_code == 200 and good.json()["count"] > 0
