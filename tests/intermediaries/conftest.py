"""A small, fully valued book for the broker workspace tests.

broker1 (Alpha Invest) advises Anna and Bert, broker2 (Alpha) advises Carla, broker3 (Beta)
advises Dora. Prices cover 30 business days; valuations are computed by the real service.
"""

from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest

from clients.models import Client
from intermediaries.models import FxRate, Instrument, Intermediary, Portfolio, Price, Transaction
from intermediaries.valuation import revalue_and_roll_up

START = date(2026, 9, 1)  # a Tuesday


def business_days(start: date, count: int) -> list[date]:
    days, day = [], start
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


DAYS = business_days(START, 30)


def make_client(number, first, last, advisor, **extra):
    return Client.objects.create(number=number, first_name=first, last_name=last, advisor=advisor, **extra)


def make_portfolio(client, number, currency="EUR"):
    return Portfolio.objects.create(
        number=number, client=client, name=f"Depot {number}", currency=currency, opened_on=START
    )


def book(txn_id, portfolio, type_, day, amount, instrument=None, quantity="0", price="0", currency="EUR"):
    return Transaction.objects.create(
        external_id=f"T{txn_id}",
        portfolio=portfolio,
        type=type_,
        trade_date=day,
        instrument=instrument,
        quantity=Decimal(quantity),
        price=Decimal(price),
        amount=Decimal(amount),
        currency=currency,
    )


@pytest.fixture
def market(db):
    equity = Instrument.objects.create(isin="DE0007164600", name="SAP SE", asset_class="equity", currency="EUR")
    fund = Instrument.objects.create(
        isin="IE00B4L5Y983", name="iShares Core MSCI World", asset_class="etf", currency="USD"
    )
    Price.objects.bulk_create(
        [Price(instrument=equity, date=d, close=Decimal("100") + i) for i, d in enumerate(DAYS)]
        + [Price(instrument=fund, date=d, close=Decimal("50") + Decimal(i) / 2) for i, d in enumerate(DAYS)]
    )
    FxRate.objects.bulk_create([FxRate(currency="USD", date=d, rate=Decimal("1.10")) for d in DAYS])
    return SimpleNamespace(equity=equity, fund=fund)


@pytest.fixture
def workspace(cast, market):
    for n, broker in enumerate([cast.broker1, cast.broker2, cast.broker3], start=1):
        Intermediary.objects.create(user=broker, firm=broker.organisation, number=f"B000{n}")
    anna = make_client("C1001", "Anna", "Albers", cast.broker1, user=cast.client1, email="anna@example.com")
    bert = make_client("C1002", "Bert", "Brandt", cast.broker1, status=Client.Status.INACTIVE)
    carla = make_client("C2001", "Carla", "Conrad", cast.broker2)
    dora = make_client("C3001", "Dora", "Dietrich", cast.broker3, user=cast.client3)
    portfolios = {}
    for n, client in enumerate([anna, bert, carla, dora], start=1):
        portfolio = make_portfolio(client, f"P{n}")
        portfolios[client.number] = portfolio
        book(f"{n}-1", portfolio, "deposit", DAYS[0], "10000")
        book(f"{n}-2", portfolio, "buy", DAYS[1], "5000", market.equity, "50", "100")
        book(f"{n}-3", portfolio, "buy", DAYS[2], "2040", market.fund, "40", "51", currency="USD")
        book(f"{n}-4", portfolio, "dividend", DAYS[10], "120", market.equity)
        book(f"{n}-5", portfolio, "fee", DAYS[11], "15")
        book(f"{n}-6", portfolio, "sell", DAYS[20], "2400", market.equity, "20", "120")
    revalue_and_roll_up(portfolio_ids=[p.pk for p in portfolios.values()])
    for client in (anna, bert, carla, dora):
        client.refresh_from_db()
    return SimpleNamespace(anna=anna, bert=bert, carla=carla, dora=dora, portfolios=portfolios, market=market)
