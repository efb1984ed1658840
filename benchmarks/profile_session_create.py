#!/usr/bin/env python
"""Milliseconds per `POST /api/v1/bnpl/sessions/` in-process, and where they go.

    DATABASE_URL=... REDIS_URL=... .venv/bin/python benchmarks/profile_session_create.py KEYS_FILE \
        [-n 200] [--lines 1] [--new-amounts] [--breakdown] [--profile] [--queries]

KEYS_FILE is the "keys" file benchmarks/bnpl_dataset.py writes ("<api key>\\t0" a line). Posts the
body benchmarks/wrk_bnpl.lua posts (with --lines order lines), rotating over the keys, through
Django's test client (the whole middleware stack, no HTTP server), and prints the median and mean
wall time per request and this process's CPU time per request (less disturbed by a loaded machine);
--breakdown the wall time of each stage, --profile the costliest functions, --queries one request's SQL.
Settings as the benchmark serves them (bench_pages.env(): production mode, rate limit lifted), the
database and Redis from the environment.
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def body(counter: int, lines: int, new_amounts: bool = False) -> str:
    """wrk_bnpl.lua's body (one line of 2 × 60.00), or `lines` such lines; with new_amounts each
    request's unit price differs by a cent, so no two ask the pricing the same question."""
    unit = Decimal("60.00") + (Decimal(counter) / 100 if new_amounts else 0)
    return json.dumps(
        {
            "amount": f"{2 * unit * lines:.2f}",
            "currency": "EUR",
            "order_lines": [{"name": "Bench item", "quantity": 2, "unit_price": f"{unit:.2f}"}] * lines,
            "shopper_email": f"shopper{counter % 2000 + 1}@bench.example",
            "locale": "en",
            "reference": f"PROF-{os.getpid()}-{counter}",
        }
    )


def _instrument() -> dict:
    """Wrap the stages of a session create with wall-clock timers (the request total minus these is
    the middleware, routing, parsing and rendering)."""
    from collections import defaultdict

    from bnpl import services
    from bnpl.api import serializers, views
    from portal.api import authentication, idempotency, permissions, throttling

    stages = defaultdict(float)

    def timed(owner, name, label):
        original = getattr(owner, name)

        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                stages[label] += time.perf_counter() - started

        setattr(owner, name, wrapper)

    timed(authentication.ApiKeyAuthentication, "authenticate", "api key authentication")
    timed(permissions.HasRole, "has_permission", "role permission")
    timed(throttling.ApiKeyRateThrottle, "allow_request", "rate limit")
    timed(idempotency.IdempotencyGate, "allow_request", "idempotency gate")
    timed(serializers.SessionCreateSerializer, "is_valid", "input validation")
    timed(services, "session_create", "service session_create")
    timed(views, "_options_by_session", "pricing payment_options")
    original_data = serializers.SessionSerializer.data

    def data(self):
        started = time.perf_counter()
        try:
            return original_data.fget(self)
        finally:
            stages["response serializer"] += time.perf_counter() - started

    serializers.SessionSerializer.data = property(data)
    return stages


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("keys")
    parser.add_argument("-n", type=int, default=200)
    parser.add_argument("--lines", type=int, default=1)
    parser.add_argument("--new-amounts", action="store_true", help="a different amount on every request")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--queries", action="store_true")
    parser.add_argument("--breakdown", action="store_true", help="wall time of the main stages per request")
    args = parser.parse_args()
    for name, value in {
        "DEBUG": "false",
        "SECRET_KEY": "benchmark-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "SECURE_SSL_REDIRECT": "false",
        "PORTAL_REQUIRE_2FA": "false",
        "PORTAL_STATIC_MANIFEST": "false",
        "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
        "PORTAL_API_KEY_RATE": "100000000/minute",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
    }.items():
        os.environ.setdefault(name, value)
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    stages = _instrument() if args.breakdown else None
    keys = [line.split("\t")[0] for line in Path(args.keys).read_text().splitlines() if line]
    client = Client()
    counter = 0

    def post():
        nonlocal counter
        counter += 1
        key = keys[counter % len(keys)]
        return client.post(
            "/api/v1/bnpl/sessions/",
            body(counter, args.lines, args.new_amounts),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Api-Key {key}",
        )

    for _ in range(20):
        response = post()
    print(f"status {response.status_code}")
    if response.status_code != 201:
        print(response.content[:2000])
    if args.queries:
        with CaptureQueriesContext(connection) as queries:
            post()
        for query in queries.captured_queries:
            print(query["sql"][:300])
        print(f"{len(queries.captured_queries)} queries")
    profiler = cProfile.Profile() if args.profile else None
    times = []
    cpu_started = time.process_time()
    if profiler:
        profiler.enable()
    for _ in range(args.n):
        started = time.perf_counter()
        post()
        times.append((time.perf_counter() - started) * 1000)
    if profiler:
        profiler.disable()
    cpu = (time.process_time() - cpu_started) / args.n * 1000
    print(
        f"median {statistics.median(times):.2f} ms, mean {statistics.mean(times):.2f} ms, "
        f"CPU {cpu:.2f} ms in this process (n={args.n}, lines={args.lines}, new amounts: {args.new_amounts})"
    )
    if stages is not None:
        for name, spent in stages.items():
            print(f"  {name}: {spent / (args.n + 20 + args.queries) * 1000:.2f} ms")
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(os.environ.get("SORT", "cumulative")).print_stats(
            int(os.environ.get("TOP", "60"))
        )
        print(out.getvalue())


if __name__ == "__main__":
    main()
