"""The client zone's portfolio pages: the broker's figures, filters, exports, access and query budgets.

The book is the workspace's (tests/intermediaries/conftest.py): client1 is Anna (C1001, broker1),
client3 is Dora (C3001, broker3); here client2 becomes Bert (C1002, broker1).
"""

import csv
import io
import json
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader

from clients.models import Client
from clients.zone import export_parts, home_panels
from intermediaries import selectors, zone_selectors
from intermediaries.models import Portfolio, Transaction, Valuation
from intermediaries.valuation import revalue_and_roll_up
from portal.core.versioned_cache import data_changed

from .conftest import DAYS, book

pytestmark = pytest.mark.django_db

ZONE_PAGES = ["zone-positions", "zone-transactions", "zone-performance"]


@pytest.fixture
def zone(cast, workspace):
    Client.objects.filter(pk=workspace.bert.pk).update(user=cast.client2)
    workspace.bert.refresh_from_db()
    return workspace


def url(name, *args, **query):
    path = reverse(f"intermediaries:{name}", args=args)
    if query:
        from urllib.parse import urlencode

        path += "?" + urlencode(query)
    return path


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def pdf_text(response) -> str:
    assert response["Content-Type"] == "application/pdf"
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


def figures(positions) -> list[tuple]:
    return [(p.portfolio.number, p.instrument.isin, p.quantity, p.market_value, p.cost, p.weight) for p in positions]


# --- the same figures as the broker's -----------------------------------------------------------


@pytest.mark.parametrize("day", [None, DAYS[5], DAYS[25]])
def test_the_positions_are_the_brokers_for_the_same_client_and_day(cast, zone, day):
    broker = selectors.position_list(actor=cast.broker1, client_id=zone.anna.pk, on=day)
    cache.clear()
    mine = zone_selectors.holdings_of(client=zone.anna, on=day)
    assert figures(mine.positions) == figures(broker)
    assert broker  # the comparison is not of two empty lists


def test_the_total_assets_are_the_clients_assets_the_broker_sees(cast, zone):
    holdings = zone_selectors.holdings_of(client=zone.anna)
    assert holdings.total_eur == zone.anna.assets
    (portfolio,) = holdings.portfolios
    assert portfolio.value == Portfolio.objects.get(number="P1").market_value
    # On a day with closes for every position, the positions and the cash make up the stored value.
    (portfolio,) = zone_selectors.holdings_of(client=zone.anna, on=DAYS[25]).portfolios
    assert portfolio.securities_value + portfolio.cash == pytest.approx(portfolio.value, abs=Decimal("0.02"))


def test_the_positions_page_shows_the_day_each_position_and_its_gain(cast, login_as, zone):
    response = login_as(cast.client1).get(url("zone-positions"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "SAP SE" in html and "iShares Core MSCI World" in html
    assert 'data-testid="total-assets">' in html
    assert "Unrealised gain" in html
    latest = Portfolio.objects.get(number="P1").valued_on
    assert f'value="{latest.isoformat()}"' in html  # the latest valuation is the default day


def test_the_date_picker_shows_the_positions_of_that_day(cast, login_as, zone):
    client = login_as(cast.client1)
    before_sale = client.get(url("zone-positions", date=DAYS[15].isoformat())).content.decode()
    after_sale = client.get(url("zone-positions", date=DAYS[25].isoformat())).content.decode()
    # 50 SAP bought on day 1, 20 sold on day 20.
    assert '<td class="num">50</td>' in before_sale
    assert '<td class="num">30</td>' in after_sale


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-13-45", "Enter a valid date."),
        ("2030-01-01", "Positions are known until"),
        ("2001-01-01", "The first portfolio was opened on"),
        ("0001-01-01", "The first portfolio was opened on"),
    ],
)
def test_a_bad_day_is_a_clear_400(cast, login_as, zone, value, message):
    response = login_as(cast.client1).get(url("zone-positions", date=value))
    assert response.status_code == 400
    assert message in response.content.decode()


def test_a_portfolio_page_shows_that_portfolio(cast, login_as, zone):
    portfolio = zone.portfolios["C1001"]
    response = login_as(cast.client1).get(url("zone-portfolio", portfolio.pk))
    assert response.status_code == 200
    assert f'data-testid="portfolio-{portfolio.number}"' in response.content.decode()


# --- access -------------------------------------------------------------------------------------


def test_client2_cannot_reach_client1s_portfolio(cast, login_as, zone):
    response = login_as(cast.client2).get(url("zone-portfolio", zone.portfolios["C1001"].pk))
    assert response.status_code == 404


def test_client2_sees_only_their_own_portfolio_everywhere(cast, login_as, zone):
    client = login_as(cast.client2)
    positions = client.get(url("zone-positions")).content.decode()
    assert "P2" in positions and "Depot P1" not in positions
    rows = csv_rows(client.get(url("zone-transactions-export", "csv")))
    assert {row[1] for row in rows[1:]} == {"P2"}


def test_another_clients_portfolio_in_the_filter_is_a_clear_400(cast, login_as, zone):
    client = login_as(cast.client2)
    foreign = zone.portfolios["C1001"].pk
    page = client.get(url("zone-transactions", portfolio=foreign))
    assert page.status_code == 400
    assert "Select a valid choice" in page.content.decode()
    assert "Depot P1" not in page.content.decode()
    export = client.get(url("zone-transactions-export", "csv", portfolio=foreign))
    assert export.status_code == 400
    assert export.json()["error"]["details"]["portfolio"]


@pytest.mark.parametrize("who", ["broker1", "manager", "backoffice", "admin", "outsider"])
@pytest.mark.parametrize("name", ZONE_PAGES)
def test_anyone_without_a_client_record_gets_404_on_the_zone_pages(cast, login_as, zone, who, name):
    assert login_as(getattr(cast, who)).get(url(name)).status_code == 404


@pytest.mark.parametrize(("name", "args"), [("zone-positions-export", ["csv"]), ("zone-transactions-export", ["pdf"])])
def test_anyone_without_a_client_record_gets_404_on_the_zone_exports(cast, login_as, zone, name, args):
    assert login_as(cast.broker1).get(url(name, *args)).status_code == 404


def test_an_anonymous_visitor_is_sent_to_sign_in(client, zone):
    response = client.get(url("zone-positions"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_an_unknown_export_format_is_404(cast, login_as, zone):
    assert login_as(cast.client1).get(url("zone-transactions-export", "xlsx")).status_code == 404


def test_the_menu_shows_portfolio_to_clients_only(cast, login_as, zone):
    target = reverse("intermediaries:zone-positions")
    assert f'href="{target}"' in login_as(cast.client1).get(url("zone-transactions")).content.decode()
    assert f'href="{target}"' not in login_as(cast.broker1).get(reverse("intermediaries:dashboard")).content.decode()


# --- transactions: filters and exports -----------------------------------------------------------


def test_the_transactions_filter_by_type_portfolio_instrument_and_dates(cast, login_as, zone):
    client = login_as(cast.client1)
    portfolio = zone.portfolios["C1001"].pk
    html = client.get(url("zone-transactions", type="dividend", portfolio=portfolio)).content.decode()
    assert "Dividend" in html and "<td>Fee</td>" not in html
    html = client.get(url("zone-transactions", instrument="DE0007164600")).content.decode()
    assert "SAP SE" in html and "<td>Deposit</td>" not in html
    html = client.get(url("zone-transactions", date_from=DAYS[10].isoformat(), date_to=DAYS[11].isoformat())).content
    assert b"<td>Dividend</td>" in html and b"<td>Fee</td>" in html and b"<td>Buy</td>" not in html


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"type": "gift"}, "type", "Select a valid choice"),
        ({"instrument": "XX0000000000"}, "instrument", "Select a valid choice"),
        ({"date_from": "yesterday"}, "date_from", "Enter a valid date."),
        ({"date_from": DAYS[5].isoformat(), "date_to": DAYS[1].isoformat()}, "date_to", "must not be before"),
    ],
)
def test_a_bad_filter_is_a_clear_400_on_the_page_and_the_export(cast, login_as, zone, query, field, message):
    client = login_as(cast.client1)
    page = client.get(url("zone-transactions", **query))
    assert page.status_code == 400
    assert message in page.content.decode()
    assert 'data-testid="filter-errors"' in page.content.decode()
    for fmt in ("csv", "pdf"):
        export = client.get(url("zone-transactions-export", fmt, **query))
        assert export.status_code == 400
        assert message in " ".join(export.json()["error"]["details"][field])


def test_the_csv_export_holds_the_filtered_transactions(cast, login_as, zone):
    response = login_as(cast.client1).get(url("zone-transactions-export", "csv", type="buy"))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="transactions-C1001.csv"'
    header, *rows = csv_rows(response)
    assert header == ["Date", "Portfolio", "Type", "ISIN", "Instrument", "Quantity", "Price", "Amount", "Currency"]
    assert sorted((r[0], r[3], r[5], r[7], r[8]) for r in rows) == [
        (DAYS[1].isoformat(), "DE0007164600", "50", "5000.00", "EUR"),
        (DAYS[2].isoformat(), "IE00B4L5Y983", "40", "2040.00", "USD"),
    ]


def test_the_pdf_export_lists_the_filtered_transactions_and_the_filter(cast, login_as, zone):
    response = login_as(cast.client1).get(url("zone-transactions-export", "pdf", type="dividend"))
    assert response.status_code == 200
    text = pdf_text(response)
    assert "Anna Albers (C1001)" in text
    assert "Dividend" in text and "120.00 EUR" in text
    assert "Deposit" not in text


def test_a_pdf_of_too_many_transactions_is_refused_with_a_clear_message(cast, login_as, zone, monkeypatch):
    from intermediaries import exports

    monkeypatch.setattr(exports, "PDF_MAX_TRANSACTIONS", 3)
    response = login_as(cast.client1).get(url("zone-transactions-export", "pdf"))
    assert response.status_code == 400
    assert "too many for one PDF" in response.json()["error"]["message"]


def test_the_positions_csv_and_pdf_hold_the_positions_of_the_day(cast, login_as, zone):
    client = login_as(cast.client1)
    header, *rows = csv_rows(client.get(url("zone-positions-export", "csv", date=DAYS[15].isoformat())))
    assert header[:4] == ["Date", "Portfolio", "ISIN", "Instrument"]
    assert {(r[0], r[2], r[5]) for r in rows} == {
        (DAYS[15].isoformat(), "DE0007164600", "50"),
        (DAYS[15].isoformat(), "IE00B4L5Y983", "40"),
    }
    text = pdf_text(client.get(url("zone-positions-export", "pdf", date=DAYS[15].isoformat())))
    assert "SAP SE" in text and "iShares Core MSCI World" in text and "Depot P1" in text


def test_a_bad_day_for_the_positions_export_is_a_clear_400(cast, login_as, zone):
    response = login_as(cast.client1).get(url("zone-positions-export", "csv", date="31.02.2026"))
    assert response.status_code == 400
    assert response.json()["error"]["details"]["date"] == ["Enter a valid date."]


# --- the broker's exports: the same path ----------------------------------------------------------


def test_the_broker_downloads_what_the_client_downloads(cast, login_as, zone):
    day = DAYS[15].isoformat()
    mine = csv_rows(login_as(cast.client1).get(url("zone-positions-export", "csv", date=day)))
    brokers = csv_rows(login_as(cast.broker1).get(url("position-export", zone.anna.pk, date=day)))
    assert brokers == mine
    mine = csv_rows(login_as(cast.client1).get(url("zone-transactions-export", "csv")))
    brokers = csv_rows(login_as(cast.broker1).get(url("transaction-export", zone.anna.pk)))
    assert brokers == mine


@pytest.mark.parametrize("name", ["position-export-pdf", "transaction-export-pdf"])
def test_the_broker_gets_pdfs_of_the_clients_positions_and_transactions(cast, login_as, zone, name):
    response = login_as(cast.broker1).get(url(name, zone.anna.pk))
    assert response.status_code == 200
    assert "Anna Albers (C1001)" in pdf_text(response)


@pytest.mark.parametrize("name", ["position-export", "position-export-pdf", "transaction-export-pdf"])
def test_another_firms_broker_gets_404_for_the_exports(cast, login_as, zone, name):
    assert login_as(cast.broker3).get(url(name, zone.anna.pk)).status_code == 404


def test_the_client_detail_offers_exports_signing_and_a_report_for_this_client(cast, login_as, zone):
    html = login_as(cast.broker1).get(url("client-detail", zone.anna.pk)).content.decode()
    pk = zone.anna.pk
    assert f'href="{reverse("signing:request-create")}?recipient={pk}"' in html
    assert f'href="{reverse("reports:report-list")}?client={pk}"' in html
    for name in ("position-export", "position-export-pdf", "transaction-export", "transaction-export-pdf"):
        assert f'href="{reverse(f"intermediaries:{name}", args=[pk])}' in html


def test_a_client_without_a_login_cannot_be_sent_a_signature_request(cast, login_as, workspace):
    html = login_as(cast.broker1).get(url("client-detail", workspace.bert.pk)).content.decode()
    assert "?recipient=" not in html
    assert "no portal login" in html


def test_the_signature_form_preselects_the_client_from_the_link(cast, login_as, zone):
    client = login_as(cast.broker1)
    kinds = client.get(f"{reverse('signing:request-create')}?recipient={zone.anna.pk}").content.decode()
    assert f"?kind=document&amp;recipient={zone.anna.pk}" in kinds
    form = client.get(f"{reverse('signing:request-create')}?kind=fund_transfer&recipient={zone.anna.pk}")
    html = form.content.decode()
    assert f'<option value="{zone.anna.pk}" selected>' in html
    assert "Depot P1 (P1)" in html  # the client's portfolios are offered at once


def test_the_signature_form_preselects_nobody_for_a_foreign_client(cast, login_as, zone):
    html = (
        login_as(cast.broker1)
        .get(f"{reverse('signing:request-create')}?kind=document&recipient={zone.dora.pk}")
        .content.decode()
    )
    assert " selected>" not in html.split('id="id_recipient"')[1].split("</select>")[0]
    assert "Dora" not in html


@pytest.mark.parametrize("value", ["abc", "99999999999999999999", "-1", ""])
def test_a_bad_client_in_the_report_link_is_ignored(cast, login_as, zone, value):
    assert login_as(cast.broker1).get(f"{reverse('reports:report-list')}?client={value}").status_code == 200


# --- performance -------------------------------------------------------------------------------


@pytest.mark.parametrize("period", ["1M", "YTD", "1Y", "3Y", "MAX"])
def test_the_performance_of_a_period_is_the_brokers(cast, login_as, zone, period):
    response = login_as(cast.client1).get(url("zone-performance", period=period))
    assert response.status_code == 200
    overview = selectors.client_performance(actor=cast.broker1, client_id=zone.anna.pk)
    row = next(p for p in overview["periods"] if p["code"] == period)
    context = response.context
    assert context["figures"]["twr"] == row["twr"]
    assert context["figures"]["mwr"] == row["mwr"]
    assert context["overview"]["periods"] == overview["periods"]
    assert 'data-testid="range-twr"' in response.content.decode()


def test_a_custom_range_shows_the_brokers_figures_for_that_range(cast, login_as, zone):
    start, end = DAYS[3], DAYS[20]
    response = login_as(cast.client1).get(
        url("zone-performance", period="custom", start=start.isoformat(), end=end.isoformat())
    )
    assert response.status_code == 200
    broker = selectors.client_performance(actor=cast.broker1, client_id=zone.anna.pk, start=start, end=end)
    assert response.context["figures"]["twr"] == broker["twr"]
    assert response.context["figures"]["mwr"] == broker["mwr"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"period": "5Y"}, "Select a valid choice"),
        ({"period": "custom", "start": DAYS[5].isoformat()}, "Give the last day of the range."),
        ({"start": DAYS[9].isoformat(), "end": DAYS[2].isoformat()}, "must not be before"),
        ({"period": "custom", "start": "soon", "end": DAYS[2].isoformat()}, "Enter a valid date."),
    ],
)
def test_a_bad_period_is_a_clear_400(cast, login_as, zone, query, message):
    response = login_as(cast.client1).get(url("zone-performance", **query))
    assert response.status_code == 400
    assert message in response.content.decode()


def test_a_range_without_valuations_says_so(cast, login_as, zone):
    response = login_as(cast.client1).get(url("zone-performance", start="2020-01-01", end="2020-12-31"))
    assert response.status_code == 200
    assert 'data-testid="no-figures"' in response.content.decode()


def test_the_data_quality_flags_are_explained_in_words(cast, login_as, zone):
    portfolio = zone.portfolios["C1001"]
    Valuation.objects.filter(portfolio=portfolio, date=DAYS[-3]).update(flags=Valuation.Flag.STALE_PRICE)
    data_changed()
    html = login_as(cast.client1).get(url("zone-performance", period="MAX")).content.decode()
    assert 'data-testid="quality-flags"' in html
    assert "A price was missing; the last known price was used." in html
    html = login_as(cast.client1).get(url("zone-performance", start=DAYS[1].isoformat(), end=DAYS[4].isoformat()))
    assert b'data-testid="quality-flags-none"' in html.content


# --- home panels and the data export ------------------------------------------------------------


def panel(key):
    return next(p for p in home_panels() if p.key == key)


PANELS = ["portfolio-assets", "portfolio-allocation", "portfolio-performance", "portfolio-transactions"]


@pytest.mark.parametrize("key", PANELS)
def test_a_client_without_a_portfolio_gets_no_panel(cast, rf, key):
    lonely = Client.objects.create(number="C9999", first_name="Lone", last_name="Client", user=cast.client2)
    assert panel(key).context(lonely, rf.get("/")) is None


@pytest.mark.parametrize("key", PANELS)
def test_each_panel_renders_for_a_client_with_portfolios(cast, rf, zone, key):
    from django.template.loader import render_to_string

    context = panel(key).context(zone.anna, rf.get("/"))
    assert context is not None
    html = render_to_string(panel(key).template, context)
    assert f'data-testid="panel-{key.removeprefix("portfolio-")}"' in html


def test_the_assets_panel_shows_the_total_and_its_change(cast, rf, zone):
    assets = panel("portfolio-assets").context(zone.anna, rf.get("/"))["assets"]
    assert assets["value"] == zone.anna.assets
    assert assets["period"] == "YTD"
    # The history begins this year: the change is everything paid in plus the gain.
    assert assets["change"] == assets["net_flows"] + assets["gain"]
    assert assets["net_flows"] == Decimal("10000.00")


def test_the_allocation_panel_sums_to_the_clients_assets(cast, rf, zone):
    allocation = panel("portfolio-allocation").context(zone.anna, rf.get("/"))["allocation"]
    assert {row["asset_class"] for row in allocation} == {"equity", "etf", "cash"}
    assert sum(row["value"] for row in allocation) == pytest.approx(zone.anna.assets, abs=Decimal("0.05"))
    assert sum(row["weight"] for row in allocation) == pytest.approx(Decimal(1))


def test_the_performance_panel_puts_twr_and_mwr_side_by_side(cast, rf, zone):
    context = panel("portfolio-performance").context(zone.anna, rf.get("/"))
    names = [d["label"] for d in context["chart"]["datasets"]]
    assert names == ["Time-weighted return, cumulative", "Money-weighted return, cumulative"]
    assert context["chart"]["labels"] == list(selectors.PERIODS)


def test_the_transactions_panel_shows_the_latest_first(cast, rf, zone):
    rows = panel("portfolio-transactions").context(zone.anna, rf.get("/"))["transactions"]
    assert [t.trade_date for t in rows] == sorted((t.trade_date for t in rows), reverse=True)
    assert rows[0].type == "sell"


def test_the_data_export_holds_portfolios_positions_and_every_transaction_as_json(cast, zone):
    part = next(p for p in export_parts() if p.key == "portfolios")
    data, files = part.build(zone.anna)
    assert files == []
    text = json.dumps(data)  # nothing that JSON cannot carry
    assert [p["number"] for p in data["portfolios"]] == ["P1"]
    assert len(data["transactions"]) == Transaction.objects.filter(portfolio__client=zone.anna).count()
    assert {p["isin"]: p["quantity"] for p in data["positions"]} == {
        "DE0007164600": "30.00000000",
        "IE00B4L5Y983": "40.00000000",
    }
    assert '"amount": "5000.00"' in text
    assert data["positions_on"] == Portfolio.objects.get(number="P1").valued_on.isoformat()


def test_the_data_export_of_another_client_holds_nothing_of_anna(cast, zone):
    part = next(p for p in export_parts() if p.key == "portfolios")
    data, _ = part.build(zone.bert)
    assert {p["number"] for p in data["portfolios"]} == {"P2"}
    assert {t["portfolio"] for t in data["transactions"]} == {"P2"}


# --- bounded queries -------------------------------------------------------------------------------


def grow_history(client, market, portfolios: int, bookings: int) -> None:
    """Give the client more portfolios and each many more bookings, valued."""
    made = []
    existing = Portfolio.objects.filter(client=client).count()
    for n in range(existing, existing + portfolios):
        portfolio = Portfolio.objects.create(
            number=f"G{client.pk}-{n}", client=client, name=f"Grown {n}", currency="EUR", opened_on=DAYS[0]
        )
        book(f"G{portfolio.pk}-dep", portfolio, "deposit", DAYS[0], "100000")
        for i in range(bookings):
            day = DAYS[1 + i % (len(DAYS) - 2)]
            book(f"G{portfolio.pk}-{i}", portfolio, "buy", day, "101", market.equity, "1", "101")
        made.append(portfolio.pk)
    revalue_and_roll_up(portfolio_ids=made)


def count_queries(client, path) -> int:
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    assert response.status_code == 200, path
    return len(queries)


ZONE_URLS = [
    ("zone-positions", [], {}),
    ("zone-positions", [], {"date": DAYS[12].isoformat()}),
    ("zone-transactions", [], {"type": "buy"}),
    ("zone-performance", [], {"period": "YTD"}),
    ("zone-performance", [], {"start": DAYS[2].isoformat(), "end": DAYS[20].isoformat()}),
    ("zone-positions-export", ["csv"], {}),
    ("zone-transactions-export", ["csv"], {}),
]


def test_the_zone_pages_use_the_same_queries_for_a_small_and_a_large_history(cast, login_as, zone):
    client = login_as(cast.client1)
    paths = [url(name, *args, **query) for name, args, query in ZONE_URLS]
    grow_history(zone.anna, zone.market, portfolios=1, bookings=5)
    small = {path: count_queries(client, path) for path in paths}
    grow_history(zone.anna, zone.market, portfolios=3, bookings=120)
    large = {path: count_queries(client, path) for path in paths}
    assert large == small
    assert max(small.values()) <= 20, small
