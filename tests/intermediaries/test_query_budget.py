"""Every page and endpoint of the workspace runs the same number of queries at 10 and at 500 clients."""

from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clients.models import Client
from intermediaries.models import Portfolio, Transaction
from intermediaries.valuation import revalue_and_roll_up

from .conftest import DAYS

pytestmark = pytest.mark.django_db


def grow_book(broker, market, size: int) -> Client:
    """Give `broker` `size` clients, each with a valued portfolio; return the first client."""
    existing = Client.objects.filter(advisor=broker).count()
    clients = Client.objects.bulk_create(
        [
            Client(number=f"Q{broker.pk}-{n:04d}", first_name="Query", last_name=f"Client {n:04d}", advisor=broker)
            for n in range(existing, size)
        ]
    )
    portfolios = Portfolio.objects.bulk_create(
        [Portfolio(number=f"QP{c.number}", client=c, name="Depot", currency="EUR", opened_on=DAYS[0]) for c in clients]
    )
    Transaction.objects.bulk_create(
        [
            Transaction(
                external_id=f"{p.number}-{kind}",
                portfolio=p,
                type=kind,
                trade_date=day,
                amount=Decimal(amount),
                currency="EUR",
                instrument=instrument,
                quantity=Decimal(qty),
                price=Decimal(price),
            )
            for p in portfolios
            for kind, day, amount, instrument, qty, price in [
                ("deposit", DAYS[0], "5000", None, "0", "0"),
                ("buy", DAYS[1], "1010", market.equity, "10", "101"),
            ]
        ]
    )
    revalue_and_roll_up(portfolio_ids=[p.pk for p in portfolios])
    return Client.objects.filter(advisor=broker).order_by("pk").first()


PAGES = [
    ("intermediaries:dashboard", False),
    ("intermediaries:client-list", False),
    ("intermediaries:client-detail", True),
    ("intermediaries:transaction-list", True),
    ("intermediaries-api:client-list", False),
    ("intermediaries-api:client-detail", True),
    ("intermediaries-api:client-portfolios", True),
    ("intermediaries-api:client-positions", True),
    ("intermediaries-api:client-transactions", True),
    ("intermediaries-api:client-performance", True),
    ("intermediaries-api:dashboard", False),
]


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    assert response.status_code == 200, url
    return len(queries)


@pytest.mark.parametrize("who", ["broker1", "manager"])
def test_pages_and_endpoints_use_the_same_queries_at_10_and_500_clients(cast, login_as, workspace, who):
    market = workspace.market
    first = grow_book(cast.broker1, market, 10)
    client = login_as(getattr(cast, who))
    urls = [reverse(name, args=[first.pk] if needs_id else []) for name, needs_id in PAGES]
    # Each round starts from empty caches (figures, the header's unread count, and the process's content
    # types, which the client page's message thread looks up once), so both count the same cold reads.
    cache.clear()
    ContentType.objects.clear_cache()
    small = {url: count_queries(client, url) for url in urls}
    grow_book(cast.broker1, market, 500)
    cache.clear()
    ContentType.objects.clear_cache()
    large = {url: count_queries(client, url) for url in urls}
    assert large == small
    assert max(small.values()) <= 25, small
