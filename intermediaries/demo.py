"""Demo data for the broker workspace: the demo writes a core-system feed and imports it.

So the import path is exactly what the demo exercises: files → import_core_feed → valuations.
"""

import time
from concurrent.futures import ProcessPoolExecutor

from django.conf import settings
from django.db import connections

CLIENT_LOGINS = {"C0001": "client1@example.com", "C0002": "client2@example.com", "C0003": "client3@example.com"}


def _revalue_slice(portfolio_ids: list[int]) -> int:
    from .valuation import portfolio_revalue

    try:
        return sum(portfolio_revalue(portfolio_id=pk) for pk in portfolio_ids)
    finally:
        connections.close_all()


def client_logins_link() -> int:
    """Give the demo's named clients (C0001-C0003) the portal logins client1-3@example.com, where missing.

    Returns how many were linked; running it again links none.
    """
    from django.contrib.auth import get_user_model

    from clients.models import Client
    from clients.services import client_user_link

    users = get_user_model().objects.filter(email__in=CLIENT_LOGINS.values()).in_bulk(field_name="email")
    linked = 0
    for client in Client.objects.filter(number__in=CLIENT_LOGINS, user__isnull=True):
        user = users.get(CLIENT_LOGINS[client.number])
        if user is not None:
            linked += client_user_link(client=client, user=user, actor_label="demo")
    return linked


def large_client_logins_link() -> int:
    """Pair the large population's client logins (large-client-NNNNN@example.com) with the clients
    of the large demo that have none, in bulk, so that the client zone can be loaded with tens of
    thousands of different clients (benchmarks/bench_pages.py). Returns how many were linked.
    """
    from django.contrib.auth import get_user_model

    from clients.models import Client

    users = list(
        get_user_model()
        .objects.filter(email__startswith="large-client-", client_profile__isnull=True)
        .order_by("email")
        .values_list("pk", flat=True)
    )
    clients = list(Client.objects.filter(user__isnull=True).order_by("pk").only("pk")[: len(users)])
    for client, user_id in zip(clients, users, strict=False):
        client.user_id = user_id
    Client.objects.bulk_update(clients, ["user"], batch_size=5000)
    return len(clients)


def demo_step(*, scale: str, stdout) -> None:
    from .demo_feed import demo_feed_load
    from .models import Portfolio
    from .rollups import roll_up

    started = time.monotonic()
    demo_feed_load(scale=scale, directory=settings.BASE_DIR / "var" / "demo-feed", stdout=stdout)
    stdout.write(f"  feed written and imported in {time.monotonic() - started:.0f} s")
    client_logins_link()
    if scale == "large":
        stdout.write(f"  {large_client_logins_link()} large-population clients given their logins")
    # The demo runs without a worker: value everything here. The large scale uses every core
    # (PostgreSQL only: SQLite allows one writer), then rolls the books up once.
    ids = list(Portfolio.objects.order_by("pk").values_list("pk", flat=True))
    started = time.monotonic()
    slices = [ids[i : i + 500] for i in range(0, len(ids), 500)]
    if scale == "large" and connections["default"].vendor == "postgresql":
        connections.close_all()  # children must not share the parent's connection
        with ProcessPoolExecutor(max_workers=2) as pool:
            for n, _ in enumerate(pool.map(_revalue_slice, slices), start=1):
                if n % 10 == 0:
                    stdout.write(
                        f"  valued {min(n * 500, len(ids))}/{len(ids)} portfolios ({time.monotonic() - started:.0f} s)"
                    )
    else:
        for part in slices:
            _revalue_slice(part)
    roll_up(portfolio_ids=ids)
    if connections["default"].vendor == "postgresql":
        # Fresh statistics after a bulk load, so the planner uses the indexes from the first request.
        with connections["default"].cursor() as cursor:
            cursor.execute("ANALYZE")
    stdout.write(f"  {len(ids)} portfolios valued in {time.monotonic() - started:.0f} s")
