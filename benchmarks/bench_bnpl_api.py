#!/usr/bin/env python
"""The BNPL merchant API under load: payment sessions and credit decisions per second, against the
one-query floors measured in the same run (issue 14: session create ≥ 30 % of the floor, p95 < 200 ms
at 50 connections).

    .venv/bin/python benchmarks/bench_bnpl_api.py [--scale full|small] [--duration 20] [--connections 50] [--repeat 3]

1. builds the data set in its own database `partnerzone_bench_bnpl` (DATABASE_URL overrides it):
   100 merchants, each with a merchant user and an API key, 200,000 shoppers, 1,000,000 shipped
   orders with active plans and 100,000 orders waiting for their credit decision
   (benchmarks/bnpl_dataset.py: the bulk written by INSERT … SELECT generate_series in PostgreSQL;
   `--scale small` builds a few thousand rows for a quick check that everything runs),
2. serves the portal and stock Django side by side with gunicorn as bench_pages.py does (its
   functions, imported), the portal with benchmarks/bnpl_urls.py (the portal's URLs, the portal's
   floor and one bench-only endpoint),
3. for each endpoint, runs wrk (one thread, 50 connections) in five alternating turns against the
   stock Django floor, the portal floor (a signed-in request, one indexed query) and the endpoint
   (benchmarks/wrk_bnpl.lua: POSTs with the merchant's API key, rotating over the merchants):
   - session create: `POST /api/v1/bnpl/sessions/` with a two-line basket (a new reference each time);
   - decision: no checkout endpoint places an order through the API yet, so `POST
     /bench/bnpl/decide/<order>/` runs `bnpl.decisions.decide_order` on a prepared order behind the
     same API-key authentication and merchant permission (each order once; they are reset to
     "waiting" before each measurement). It measures the decision itself: the rules, the decision
     row with its trace, the audit event, the order's state; not the shopper's checkout page.
4. repeats 3 (--repeat) and prints each run's table and the median run per endpoint, and the
   queries each endpoint runs per request (in-process).

Never run on a busy machine: the figures are about this machine at that moment, floors included.
"""

import argparse
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/partnerzone_bench_bnpl")
os.environ["BENCH_URLCONF"] = "benchmarks.bnpl_urls"
# The per-key rate limit (120 a minute by default) would measure the limit, not the API: it still
# counts every request in Redis here, but refuses none.
os.environ.setdefault("PORTAL_API_KEY_RATE", "100000000/minute")

# benchmarks/ is on the path; bench_pages.env() reads the two settings above.
import bench_pages

SCRIPT = "wrk_bnpl.lua"
P95_LIMIT_MS = 200
TARGETS = [
    # name, path, share of the stock floor's requests per second required (None: measured, no target), file
    ("session create", "/api/v1/bnpl/sessions/", 0.30, "keys"),
    ("decision", "/bench/bnpl/decide/{order}/", None, "decide"),
]


def build(scale: str) -> dict[str, Path]:
    bench_pages.ensure_database()
    bench_pages.manage("migrate", "--noinput", "-v0")
    out = bench_pages.manage(
        "shell",
        "-c",
        f"from benchmarks.bnpl_dataset import build; build(scale={scale!r})",
        capture_output=True,
        text=True,
    ).stdout
    files = {}
    for line in out.splitlines():
        if line.startswith("FILE\t"):
            _, name, path, count = line.split("\t")
            files[name] = Path(path)
            print(f"  {name}: {count} lines")
    return files


def decisions_reset() -> None:
    bench_pages.manage("shell", "-c", "from benchmarks.bnpl_dataset import decisions_reset; decisions_reset()")


@dataclass
class Row:
    name: str
    share: float | None
    stock_rps: float
    floor_rps: float
    page: dict

    @property
    def ratio(self) -> float:
        return self.page["rps"] / self.stock_rps

    @property
    def ratio_to_floor(self) -> float:
        return self.page["rps"] / self.floor_rps

    @property
    def errors(self) -> int:
        return int(self.page["errors"] + self.page["non2xx"])

    @property
    def met(self) -> bool | None:
        if self.share is None:
            return None
        return self.ratio >= self.share and self.page["p95_ms"] < P95_LIMIT_MS and not self.errors


def run(files: dict[str, Path], args) -> list[list[Row]]:
    servers = bench_pages.serve(True)
    offset = Path(files["decide"]).with_suffix(".offset")
    try:
        runs = []
        for _ in range(args.repeat):
            rows = []
            for name, path, share, kind in TARGETS:
                if kind == "decide":
                    decisions_reset()
                    offset.write_text("0")
                    os.environ["OFFSET"] = str(offset)  # consecutive wrk turns take orders not decided yet
                stock, floor, page = bench_pages.in_turns(path, files["floor"], files[kind], args, script=SCRIPT)
                os.environ.pop("OFFSET", None)
                rows.append(Row(name, share, stock["rps"], floor, page))
                print(
                    f"  {name}: {page['rps']:.0f} req/s, {rows[-1].ratio:.0%} of stock ({stock['rps']:.0f} req/s), "
                    f"{rows[-1].ratio_to_floor:.0%} of the portal floor, wrk p95 {page['p95_ms']:.0f} ms, "
                    f"{rows[-1].errors} errors",
                    flush=True,
                )
            runs.append(rows)
        return runs
    finally:
        offset.unlink(missing_ok=True)
        for server in servers:
            os.killpg(server.pid, bench_pages.signal.SIGTERM)
        for server in servers:
            server.wait(timeout=40)


def query_counts(files: dict[str, Path]) -> dict[str, int]:
    """Queries per request of each endpoint, counted in-process with the first merchant's key."""
    key = bench_pages.session_lines(files["keys"])[0][0]
    decide_key, order = bench_pages.session_lines(files["decide"])[-1]
    script = f"""
import json
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
body = {{"amount": "120.00", "currency": "EUR", "order_lines": [{{"name": "Bench item", "quantity": 2,
        "unit_price": "60.00"}}], "shopper_email": "shopper1@bench.example", "locale": "en", "reference": "BENCH-Q"}}
for name, path, key, data in [("session create", "/api/v1/bnpl/sessions/", {key!r}, body),
                              ("decision", "/bench/bnpl/decide/{order}/", {decide_key!r}, {{}})]:
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION="Api-Key " + key)
    with CaptureQueriesContext(connection) as queries:
        status = client.post(path, json.dumps(data), content_type="application/json").status_code
    print(f"QUERIES\\t{{name}}\\t{{len(queries)}}\\t{{status}}")
"""
    decisions_reset()
    out = bench_pages.manage("shell", "-c", script, capture_output=True, text=True).stdout
    return bench_pages.query_lines(out, ok="201")


def print_table(title: str, rows: list[Row], queries: dict[str, int]) -> None:
    print(f"\n{title}\n")
    print(
        "| endpoint | stock Django req/s | portal floor req/s | endpoint req/s | % of stock | target "
        "| % of portal floor | wrk p95 ms (50 conn.) | queries | errors | verdict |"
    )
    print("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---|")
    for row in rows:
        target = f"≥ {row.share:.0%}, p95 < {P95_LIMIT_MS} ms" if row.share is not None else "measured"
        verdict = {True: "met", False: "MISSED", None: "—"}[row.met]
        print(
            f"| {row.name} | {row.stock_rps:.0f} | {row.floor_rps:.0f} | {row.page['rps']:.0f} | {row.ratio:.0%} "
            f"| {target} | {row.ratio_to_floor:.0%} | {row.page['p95_ms']:.0f} "
            f"| {queries.get(row.name, '?')} | {row.errors} | {verdict} |"
        )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", choices=["full", "small"], default="full")
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    files = build(args.scale)
    try:
        runs = run(files, args)
        queries = query_counts(files)
    finally:
        for path in files.values():
            path.unlink(missing_ok=True)
    print(f"\n{args.connections} connections, {args.duration} s each, scale {args.scale}")
    for number, rows in enumerate(runs, 1):
        print_table(f"run {number} of {len(runs)}", rows, queries)
    if len(runs) > 1:
        median = [sorted(rows, key=lambda row: row.ratio)[len(rows) // 2] for rows in zip(*runs, strict=True)]
        print_table(f"the median run of {len(runs)} per endpoint", median, queries)


if __name__ == "__main__":
    main()
