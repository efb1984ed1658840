"""The client zone labels its returns as the broker's page does: cumulative, and p.a. only for a year or more.

Emma (client2's login) holds one share for fifteen months: her 1Y, 3Y and MAX periods are a
year or longer and carry annualised figures, her 1M, MTD and YTD periods do not.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from clients.models import Client
from clients.zone import home_panels
from intermediaries.charts import period_bars
from intermediaries.models import Instrument, Portfolio, Price, Transaction
from intermediaries.valuation import revalue_and_roll_up

pytestmark = pytest.mark.django_db

INCEPTION = date(2024, 1, 2)
UNTIL = date(2025, 3, 31)
SHORT = ("1M", "MTD", "YTD")
LONG = ("1Y", "3Y", "MAX")


@pytest.fixture
def emma(cast, settings):
    settings.PORTAL_FIGURES_CACHE = False
    client = Client.objects.create(
        number="C7001", first_name="Emma", last_name="Engel", advisor=cast.broker1, user=cast.client2
    )
    portfolio = Portfolio.objects.create(number="E1", client=client, name="Depot", currency="EUR", opened_on=INCEPTION)
    share = Instrument.objects.create(isin="DE0007164600", name="SAP SE", asset_class="equity", currency="EUR")
    days = [INCEPTION + timedelta(n) for n in range((UNTIL - INCEPTION).days + 1)]
    days = [d for d in days if d.weekday() < 5]
    Price.objects.bulk_create(
        [Price(instrument=share, date=d, close=Decimal(100) + Decimal(n) / 10) for n, d in enumerate(days)]
    )
    for n, (kind, amount, quantity, price) in enumerate(
        [("deposit", "10000", "0", "0"), ("buy", "5000", "50", "100")], start=1
    ):
        Transaction.objects.create(
            external_id=f"E-{n}",
            portfolio=portfolio,
            type=kind,
            trade_date=INCEPTION,
            instrument=share if kind == "buy" else None,
            quantity=Decimal(quantity),
            price=Decimal(price),
            amount=Decimal(amount),
            currency="EUR",
        )
    revalue_and_roll_up(portfolio_ids=[portfolio.pk], until=UNTIL)
    return client


def table_of(html: str) -> str:
    return html[html.index('data-testid="performance-table"') : html.index('data-testid="performance-note"')]


def cell(table: str, period: str, figure: str) -> str:
    row = table[table.index(f'data-period="{period}"') :]
    row = row[: row.index("</tr>")]
    return row.split(f'data-figure="{figure}">')[1].split("<")[0]


def assert_labelled_table(html: str):
    table = table_of(html)
    assert table.count("Cumulative") == 2 and table.count("p.a.") == 2
    assert "Time-weighted return" in table and "Money-weighted return" in table
    for period in SHORT:
        assert cell(table, period, "twr-annualised") == cell(table, period, "mwr-annualised") == "–"
    for period in LONG:
        assert cell(table, period, "twr-annualised").endswith("%")
        assert cell(table, period, "mwr-annualised").endswith("%")
    assert "annualised (p.a.) only for periods of a year or more" in html


def test_the_zone_performance_table_shows_cumulative_and_annualised_columns(cast, login_as, emma):
    html = login_as(cast.client2).get(reverse("intermediaries:zone-performance")).content.decode()
    assert_labelled_table(html)


def test_a_one_month_range_shows_no_annualised_figure(cast, login_as, emma):
    response = login_as(cast.client2).get(reverse("intermediaries:zone-performance") + "?period=1M")
    assert response.status_code == 200
    assert response.context["figures"]["mwr_annualised"] is None
    chosen = response.content.decode().split('data-testid="chosen-range"')[1].split("</section>")[0]
    assert "Time-weighted return, cumulative" in chosen and "Money-weighted return, cumulative" in chosen
    assert "p.a." not in chosen
    assert 'data-testid="range-mwr-annualised"' not in chosen
    assert 'data-testid="range-not-annualised"' in chosen


def test_a_one_year_range_shows_the_annualised_figures_labelled(cast, login_as, emma):
    response = login_as(cast.client2).get(reverse("intermediaries:zone-performance") + "?period=1Y")
    figures = response.context["figures"]
    # The annualised return of exactly one year is its cumulative return (docs/performance.md).
    assert figures["mwr_annualised"] is not None
    chosen = response.content.decode().split('data-testid="chosen-range"')[1].split("</section>")[0]
    assert "Time-weighted return p.a." in chosen and "Money-weighted return p.a." in chosen
    assert 'data-testid="range-twr-annualised"' in chosen and 'data-testid="range-mwr-annualised"' in chosen
    assert 'data-testid="range-not-annualised"' not in chosen


def test_the_home_panel_labels_the_returns_the_same_way(cast, rf, emma):
    panel = next(p for p in home_panels() if p.key == "portfolio-performance")
    html = render_to_string(panel.template, panel.context(emma, rf.get("/")))
    assert_labelled_table(html)


def test_the_period_bars_say_they_are_cumulative(emma):
    periods = [{"code": "1M", "twr": Decimal("0.01"), "mwr": Decimal("0.02")}]
    labels = [d["label"] for d in period_bars(periods)["datasets"]]
    assert labels == ["Time-weighted return, cumulative", "Money-weighted return, cumulative"]


def test_the_broker_page_and_the_zone_share_one_period_table(cast, login_as, emma):
    broker = login_as(cast.broker1).get(reverse("intermediaries:client-detail", args=[emma.pk])).content.decode()
    zone = login_as(cast.client2).get(reverse("intermediaries:zone-performance")).content.decode()
    assert table_of(broker) == table_of(zone)
