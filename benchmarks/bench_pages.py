#!/usr/bin/env python
"""Load the broker workspace with many brokers' sessions and compare each page with the floor.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/partnerzone_bench \\
        .venv/bin/python benchmarks/bench_pages.py [--skip-build] [--duration 20] [--connections 50] [--repeat 3]

1. builds `manage.py demo --scale large` on PostgreSQL (unless --skip-build and data exists),
2. makes logged-in sessions for 200 different brokers, each with 5 of their clients for the
   client page (1,000 different client pages),
3. serves the portal with gunicorn (2 workers x 4 threads on this 2-core machine) with the
   cache on Redis, as in production,
4. requests every page once for every session (the working set in memory, as on a server that
   has been up a while),
5. for each page, runs wrk (one thread, 50 connections) against a trivial one-query view (the
   floor) and against the page, in five alternating turns of a few seconds: the throughput, as a
   share of the floor measured in the same moments (on a shared machine the floor moves by half
   from one minute to the next),
6. sends the page its target rate (that share of the floor's requests per second) on a fixed
   schedule from 50 connections (benchmarks/open_loop.py): the latency users see at that rate.
   (wrk's own latency at 50 busy connections is 50 / throughput -- queueing, not page time.)
7. repeats 4-6 (--repeat, 3 by default) and prints each run's table and, per page, the median
   run and how many runs met the target: the table for the README.

It runs the pages with the figures cache (production; the first request of each broker or client
computes and caches, the rest of the run reads the cache) and once with PORTAL_FIGURES_CACHE=false,
where every request computes its figures from the precomputed tables.
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import open_loop  # benchmarks/ is on the path when this script runs

ROOT = Path(__file__).resolve().parent.parent
PORT = 8765
LOG = Path(tempfile.gettempdir()) / "partnerzone-bench-gunicorn.log"
FLOOR_PATH = "/bench/floor/"  # the trivial view: one indexed query behind the same middleware
TARGETS = [
    # name, path, share of the floor's requests per second required
    ("dashboard", "/broker/", 0.25),
    ("client list", "/broker/clients/", 0.25),
    ("client detail", "/broker/clients/{client}/", 0.25),
    ("API client list", "/api/v1/clients/", 0.40),
]


def env(figures_cache: bool = True) -> dict:
    values = dict(os.environ)
    values.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/partnerzone_bench")
    values.update(
        DEBUG="false",
        SECRET_KEY="benchmark-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        SECURE_SSL_REDIRECT="false",
        PORTAL_REQUIRE_2FA="false",
        PORTAL_STATIC_MANIFEST="false",
        PORTAL_URLCONF="benchmarks.floor_urls",
        CELERY_TASK_ALWAYS_EAGER="true",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        GUNICORN_ACCESSLOG="",
        LOG_LEVEL="WARNING",
        PORTAL_FIGURES_CACHE="true" if figures_cache else "false",
    )
    # The cache on Redis as in production (a database of its own, emptied before each pass).
    values["REDIS_URL"] = values.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3")
    return values


def manage(*args, **kwargs):
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env(), check=True, **kwargs)


def ensure_database():
    url = env()["DATABASE_URL"]
    name = url.rsplit("/", 1)[-1]
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], capture_output=True)


def build():
    ensure_database()
    started = time.monotonic()
    manage("migrate", "--noinput", "-v0")
    manage("demo", "--scale", "large")
    print(f"demo --scale large: {time.monotonic() - started:.0f} s")


def sessions_file(count: int, clients_each: int = 5) -> Path:
    script = f"""
import sys
from django.contrib.auth import get_user_model, HASH_SESSION_KEY, SESSION_KEY, BACKEND_SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from clients.models import Client
User = get_user_model()
brokers = User.objects.filter(groups__name="intermediary", advised_clients__isnull=False).distinct().order_by("pk")[:{count}]
for broker in brokers:
    session = SessionStore()
    session[SESSION_KEY] = str(broker.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = broker.get_session_auth_hash()
    session.create()
    clients = Client.objects.filter(advisor=broker).order_by("-assets").values_list("pk", flat=True)
    for client in clients[:{clients_each}]:
        print(f"sessionid={{session.session_key}}\\t{{client}}")
"""
    out = manage("shell", "-c", script, capture_output=True, text=True).stdout
    path = Path(tempfile.mkstemp(prefix="pz-sessions-", suffix=".txt")[1])
    # Django's shell may print its own lines first: keep only the sessions.
    path.write_text("".join(line + "\n" for line in out.splitlines() if line.startswith("sessionid=")))
    return path


def serve(figures_cache: bool):
    subprocess.run(["redis-cli", "-u", env()["REDIS_URL"], "flushdb"], check=True, capture_output=True)
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "portal.wsgi:application",
            "-c",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            "2",
            "--threads",
            "4",
        ],
        cwd=ROOT,
        env=env(figures_cache),
        stdout=subprocess.DEVNULL,
        stderr=LOG.open("w"),
        start_new_session=True,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=1)
            return process
        except Exception:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"gunicorn did not start; its log: {LOG}")


def wrk(path: str, sessions: Path, duration: int, connections: int) -> dict:
    result = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{duration}s",
            "--timeout",
            "10s",
            "-s",
            str(ROOT / "benchmarks" / "wrk_sessions.lua"),
            f"http://127.0.0.1:{PORT}{path}",
        ],
        env={**os.environ, "SESSIONS": str(sessions)},
        capture_output=True,
        text=True,
        check=True,
    )
    match = re.search(r"RESULT (.*)", result.stdout)
    return {k: float(v) for k, v in (pair.split("=") for pair in match.group(1).split())}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-build", action="store_true")
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--brokers", type=int, default=200)
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs with the figures cache; the verdict is their median"
    )
    parser.add_argument("--cached-only", action="store_true", help="skip the pass without the figures cache")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    if not args.skip_build:
        build()
    sessions = sessions_file(args.brokers)
    try:
        passes = [("with the figures cache", run_pass(True, sessions, args, args.repeat))]
        if not args.cached_only:
            passes.append(("without the figures cache (every request computes)", run_pass(False, sessions, args, 1)))
    finally:
        sessions.unlink()
    print(f"\n{args.connections} connections, {args.duration} s each, {args.brokers} brokers' sessions")
    for title, runs in passes:
        for number, rows in enumerate(runs, 1):
            print_table(f"{title}, run {number} of {len(runs)}", rows)
        if len(runs) > 1:
            print_table(f"{title}, the median run of {len(runs)} per page", median_rows(runs))
            for rows in zip(*runs, strict=True):
                print(f"- {rows[0].name}: target met in {sum(row.met for row in rows)} of {len(rows)} runs")


def session_lines(path: Path) -> list[tuple[str, str]]:
    return [tuple(line.split("\t")) for line in path.read_text().splitlines() if line]


def warm_up(sessions: list[tuple[str, str]]) -> None:
    """Every page once per broker and every client page once, 8 at a time."""
    jobs = set()
    for cookie, client in sessions:
        for _, path, _ in TARGETS:
            jobs.add((cookie, path.replace("{client}", client)))

    def fetch(job):
        cookie, path = job
        request = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", headers={"Cookie": cookie})
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(fetch, sorted(jobs)))


@dataclass
class Row:
    name: str
    share: float
    floor_rps: float
    page: dict
    latency: open_loop.Result

    @property
    def ratio(self) -> float:
        return self.page["rps"] / self.floor_rps

    @property
    def errors(self) -> int:
        return int(self.page["errors"] + self.page["non2xx"]) + self.latency.errors

    @property
    def met(self) -> bool:
        return self.ratio >= self.share and self.latency.p95_ms < 300 and not self.errors


def run_pass(figures_cache: bool, sessions: Path, args, repeats: int) -> list[list[Row]]:
    """`repeats` runs; in each, every page is measured right after the floor.

    On a shared 2-core machine the floor itself moves by half between minutes, so each page is
    compared with the floor measured just before it, in the same conditions.
    """
    server = serve(figures_cache)
    lines = session_lines(sessions)
    try:
        runs = []
        for _ in range(repeats):
            # Again before each run: entries expire (FIGURES_TIMEOUT), as on a server whose pages are in use.
            started = time.monotonic()
            warm_up(lines)
            print(
                f"  warm-up ({'cache' if figures_cache else 'no cache'}): {time.monotonic() - started:.0f} s",
                flush=True,
            )
            rows = []
            for name, path, share in TARGETS:
                floor, page = floor_and_page(path, sessions, args)
                latency = open_loop.run(
                    port=PORT, path=path, sessions=lines, rate=share * floor, duration=args.duration
                )
                rows.append(Row(name, share, floor, page, latency))
                print(f"  {name}: {rows[-1].ratio:.0%} of {floor:.0f} req/s, p95 {latency.p95_ms:.0f} ms", flush=True)
            runs.append(rows)
        return runs
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=40)
        except subprocess.TimeoutExpired:  # requests still queued from the load: stop hard
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


def floor_and_page(path: str, sessions: Path, args, turns: int = 5) -> tuple[float, dict]:
    """The floor's and the page's throughput, measured in alternating turns of a few seconds.

    The floor of this shared machine moves by half from one minute to the next; taking turns
    exposes the floor and the page to the same moments, so their ratio is about the page.
    """
    seconds = max(2, args.duration // turns)
    floor = page = None
    for _ in range(turns):
        floor = _add(floor, wrk(FLOOR_PATH, sessions, seconds, args.connections))
        page = _add(page, wrk(path, sessions, seconds, args.connections))
    elapsed = turns * seconds
    return floor["requests"] / elapsed, {**page, "rps": page["requests"] / elapsed}


def _add(total: dict | None, result: dict) -> dict:
    if total is None:
        return dict(result)
    return {key: total[key] + result[key] for key in ("requests", "errors", "non2xx")}


def median_rows(runs: list[list[Row]]) -> list[Row]:
    """Per page, the run with the median share of the floor (its own floor, rate and latencies)."""
    return [sorted(rows, key=lambda row: row.ratio)[len(rows) // 2] for rows in zip(*runs, strict=True)]


def print_table(title: str, rows: list[Row]) -> None:
    print(f"\n{title}\n")
    print(
        "| page | floor req/s (in turns with the page) | page req/s | % of floor | target | rate sent | p50 ms | p95 ms | p99 ms "
        "| errors | verdict |"
    )
    print("|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---|")
    for row in rows:
        latency = row.latency
        print(
            f"| {row.name} | {row.floor_rps:.0f} | {row.page['rps']:.0f} | {row.ratio:.0%} "
            f"| ≥ {row.share:.0%}, p95 < 300 ms at that rate | {latency.rate:.0f}/s "
            f"| {latency.p50_ms:.0f} | {latency.p95_ms:.0f} | {latency.p99_ms:.0f} | {row.errors} "
            f"| {'met' if row.met else 'MISSED'} |"
        )


if __name__ == "__main__":
    main()
