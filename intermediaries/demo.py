"""Demo data for the broker workspace: the demo writes a core-system feed and imports it.

So the import path is exactly what the demo exercises: files → import_core_feed → valuations.
"""

import time

from django.conf import settings

CLIENT_LOGINS = {"C0001": "client1@example.com", "C0002": "client2@example.com", "C0003": "client3@example.com"}


def demo_step(*, scale: str, stdout) -> None:
    from django.contrib.auth import get_user_model

    from clients.models import Client

    from .demo_feed import demo_feed_load
    from .models import Portfolio
    from .valuation import revalue_and_roll_up

    started = time.monotonic()
    demo_feed_load(scale=scale, directory=settings.BASE_DIR / "var" / "demo-feed", stdout=stdout)
    stdout.write(f"  feed written and imported in {time.monotonic() - started:.0f} s")
    users = get_user_model().objects.filter(email__in=CLIENT_LOGINS.values()).in_bulk(field_name="email")
    for number, email in CLIENT_LOGINS.items():
        if email in users:
            Client.objects.filter(number=number, user__isnull=True).update(user=users[email])
    # The demo runs without a worker: value everything here, in chunks so that progress shows.
    ids = list(Portfolio.objects.order_by("client__advisor_id", "pk").values_list("pk", flat=True))
    started = time.monotonic()
    chunk = 500
    for i in range(0, len(ids), chunk):
        revalue_and_roll_up(portfolio_ids=ids[i : i + chunk])
        if len(ids) > chunk:
            stdout.write(
                f"  valued {min(i + chunk, len(ids))}/{len(ids)} portfolios ({time.monotonic() - started:.0f} s)"
            )
    stdout.write(f"  {len(ids)} portfolios valued in {time.monotonic() - started:.0f} s")
