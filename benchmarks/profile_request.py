#!/usr/bin/env python
"""CPU per request in-process, and where it goes: a page requested through Django's WSGI handler.

    DATABASE_URL=... REDIS_URL=... .venv/bin/python benchmarks/profile_request.py /broker/ [--broker EMAIL] [-n 500] [--profile]

Logs in a broker (a session made directly in the session store), warms the page, then times n
requests through the whole middleware stack (no HTTP server, no network), and with --profile
prints the functions that cost the most. With --stock, times stock Django's floor instead
(benchmarks/stock_settings.py). The figures are per request, on this process's one core.
"""

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--broker", default="")
    parser.add_argument("-n", type=int, default=500)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--stock", action="store_true", help="stock Django's floor (benchmarks/stock_settings.py)")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.stock_settings" if args.stock else "portal.settings")
    os.environ.setdefault("PORTAL_URLCONF", "benchmarks.floor_urls")
    import django

    django.setup()
    from django.test import Client

    browser = Client()
    if not args.stock:
        from django.contrib.auth import get_user_model

        users = get_user_model().objects.filter(groups__name="intermediary", advised_clients__isnull=False)
        if args.broker:
            users = users.filter(email=args.broker)
        broker = users.distinct().order_by("pk").first()
        browser.force_login(broker, backend="portal.accounts.backends.PortalAuthenticationBackend")
        from django.core.cache import cache

        from portal.accounts.backends import signed_in_key

        cache.delete(signed_in_key(broker.pk))  # the login's tombstone
        client = broker.advised_clients.order_by("-assets").first()
        args.path = args.path.replace("{client}", str(client.pk))
    for _ in range(20):
        status = browser.get(args.path).status_code
    print(f"{args.path}: {status}")
    profiler = cProfile.Profile() if args.profile else None
    started = time.process_time()
    if profiler:
        profiler.enable()
    for _ in range(args.n):
        browser.get(args.path)
    if profiler:
        profiler.disable()
    cpu = (time.process_time() - started) / args.n * 1000
    print(f"CPU per request: {cpu:.2f} ms (n={args.n})")
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(45)
        print(out.getvalue())


if __name__ == "__main__":
    main()
