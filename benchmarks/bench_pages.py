#!/usr/bin/env python
"""Load the broker workspace and the client zone with many sessions; compare each page with two floors.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/partnerzone_bench \\
        .venv/bin/python benchmarks/bench_pages.py [--skip-build] [--duration 20] [--connections 50] [--repeat 3]

1. builds `manage.py demo --scale large` on PostgreSQL (unless --skip-build and data exists),
2. makes logged-in sessions for 200 different brokers, each with 5 of their clients for the
   client page (1,000 different client pages), and for 50,000 different end clients (the client
   zone's home and positions; clients of the large demo get a portal login for it, once),
3. serves the portal with gunicorn (4 workers x 1 thread on this 2-core machine, the cache on
   Redis as in production) and, beside it, **stock Django** (benchmarks/stock_settings.py:
   `startproject`'s default middleware, one view with one indexed query) with the same gunicorn
   configuration against the same database,
4. requests every page once for every session (the working set in memory, as on a server that
   has been up a while),
5. for each page, runs wrk (one thread, 50 connections) in five alternating turns of a few
   seconds against the stock floor, the portal's own floor (benchmarks/floor_urls.py: the portal's
   middleware, a signed-in broker, one indexed query) and the page: the throughput as a share of
   each floor measured in the same moments (on a shared machine the floor moves by half from one
   minute to the next), and wrk's p95 at 50 connections,
6. sends the page its target rate (the target share of the stock floor) on a fixed schedule from
   50 connections (benchmarks/open_loop.py): the latency users see at that rate,
7. repeats 4-6 (--repeat, 3 by default) and prints each run's table and, per page, the median
   run and how many runs met the target: the table for the README,
8. prints the queries each page runs per request once its caches are warm (in-process).
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
STOCK_LOG = Path(tempfile.gettempdir()) / "partnerzone-bench-stock-gunicorn.log"
FLOOR_PATH = "/bench/floor/"  # the trivial view: one indexed query behind the same middleware
STOCK_PORT = PORT + 1
TARGETS = [
    # name, path, share of the stock Django floor's requests per second required, whose sessions
    ("portal floor", FLOOR_PATH, 0.60, "brokers"),
    ("dashboard", "/broker/", 0.40, "brokers"),
    ("client list", "/broker/clients/", 0.40, "brokers"),
    ("client detail", "/broker/clients/{client}/", 0.40, "brokers"),
    ("API client list", "/api/v1/clients/", 0.50, "brokers"),
    # The client zone, from the end clients' side: every request another client's login.
    ("client zone home", "/client/", 0.40, "clients"),
    ("client positions", "/client/portfolio/", 0.40, "clients"),
]
P95_LIMIT_MS = 300
# gunicorn as gunicorn.conf.py sizes it for this 2-core machine: a process per half core, one thread
# each (threads of one process contend for its interpreter lock on every database and Redis round trip).
WORKERS = 4
THREADS = 1


def env(figures_cache: bool = True) -> dict:
    values = dict(os.environ)
    values.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/partnerzone_bench")
    values.update(
        DEBUG="false",
        SECRET_KEY="benchmark-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        SECURE_SSL_REDIRECT="false",
        PORTAL_REQUIRE_2FA="false",
        PORTAL_STATIC_MANIFEST="false",
        # Another benchmark may serve its own bench URLs beside the floor (bench_bnpl_api.py).
        PORTAL_URLCONF=os.environ.get("BENCH_URLCONF", "benchmarks.floor_urls"),
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
from django.utils.crypto import get_random_string
User = get_user_model()
brokers = User.objects.filter(groups__name="intermediary", advised_clients__isnull=False).distinct().order_by("pk")[:{count}]
for broker in brokers:
    session = SessionStore()
    session[SESSION_KEY] = str(broker.pk)
    session[BACKEND_SESSION_KEY] = "portal.accounts.backends.PortalAuthenticationBackend"
    session[HASH_SESSION_KEY] = broker.get_session_auth_hash()
    session.create()
    # The browser's CSRF cookie too, as a browser sends it after its first page.
    csrf = get_random_string(32)
    clients = Client.objects.filter(advisor=broker).order_by("-assets").values_list("pk", flat=True)
    for client in clients[:{clients_each}]:
        print(f"sessionid={{session.session_key}}; csrftoken={{csrf}}\\t{{client}}")
"""
    out = manage("shell", "-c", script, capture_output=True, text=True).stdout
    path = Path(tempfile.mkstemp(prefix="pz-sessions-", suffix=".txt")[1])
    # Django's shell may print its own lines first: keep only the sessions.
    path.write_text("".join(line + "\n" for line in out.splitlines() if line.startswith("sessionid=")))
    return path


def client_sessions_file(count: int) -> Path:
    """Sessions of `count` different end clients of the large demo, written in bulk.

    The large demo pairs its client logins with its clients; a database built before it did gets
    them paired here (the same function).
    """
    script = f"""
import datetime
from django.contrib.auth import get_user_model, HASH_SESSION_KEY, SESSION_KEY, BACKEND_SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone
from django.utils.crypto import get_random_string
from intermediaries.demo import large_client_logins_link
large_client_logins_link()
User = get_user_model()
logins = User.objects.filter(groups__name="client", client_profile__portfolios__isnull=False).distinct().order_by("pk")[:{count}]
expire = timezone.now() + datetime.timedelta(days=1)
rows = []
csrf = get_random_string(32)
for user in logins.iterator():
    key = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
    data = SessionStore().encode({{
        SESSION_KEY: str(user.pk),
        BACKEND_SESSION_KEY: "portal.accounts.backends.PortalAuthenticationBackend",
        HASH_SESSION_KEY: user.get_session_auth_hash(),
    }})
    rows.append(Session(session_key=key, session_data=data, expire_date=expire))
    print(f"sessionid={{key}}; csrftoken={{csrf}}\\t0")
Session.objects.bulk_create(rows, batch_size=5000)
"""
    out = manage("shell", "-c", script, capture_output=True, text=True).stdout
    path = Path(tempfile.mkstemp(prefix="pz-client-sessions-", suffix=".txt")[1])
    path.write_text("".join(line + "\n" for line in out.splitlines() if line.startswith("sessionid=")))
    return path


def serve(figures_cache: bool) -> list[subprocess.Popen]:
    """The portal and stock Django, each under gunicorn with the same configuration."""
    subprocess.run(["redis-cli", "-u", env()["REDIS_URL"], "flushdb"], check=True, capture_output=True)
    stock_env = {**env(figures_cache), "DJANGO_SETTINGS_MODULE": "benchmarks.stock_settings"}
    processes = [
        _gunicorn("portal.wsgi:application", PORT, env(figures_cache), LOG),
        _gunicorn("benchmarks.stock_wsgi:application", STOCK_PORT, stock_env, STOCK_LOG),
    ]
    for port, path in ((PORT, "/healthz"), (STOCK_PORT, FLOOR_PATH)):
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1)
                break
            except Exception:
                time.sleep(0.2)
        else:
            for process in processes:
                process.kill()
            raise SystemExit(f"gunicorn did not start on {port}; logs: {LOG}, {STOCK_LOG}")
    return processes


def _gunicorn(app: str, port: int, environment: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            app,
            "-c",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(WORKERS),
            "--threads",
            str(THREADS),
        ],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
        start_new_session=True,
    )


def wrk(
    path: str, sessions: Path, duration: int, connections: int, port: int = PORT, script: str = "wrk_sessions.lua"
) -> dict:
    result = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{duration}s",
            "--timeout",
            "10s",
            "-s",
            str(ROOT / "benchmarks" / script),
            f"http://127.0.0.1:{port}{path}",
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
    parser.add_argument("--clients", type=int, default=50_000, help="end clients' logins for the client zone")
    parser.add_argument("--only", default="", help="comma-separated page names (default: every page)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs with the figures cache; the verdict is their median"
    )
    parser.add_argument("--cached-only", action="store_true", help="skip the pass without the figures cache")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    if not args.skip_build:
        build()
    targets = [t for t in TARGETS if not args.only or t[0] in args.only.split(",")]
    sessions = {"brokers": sessions_file(args.brokers)}
    if any(kind == "clients" for *_, kind in targets):
        sessions["clients"] = client_sessions_file(args.clients)
    try:
        passes = [("with the figures cache", run_pass(True, sessions, targets, args, args.repeat))]
        if not args.cached_only:
            passes.append(
                ("without the figures cache (every request computes)", run_pass(False, sessions, targets, args, 1))
            )
        queries = query_counts(sessions, targets)
    finally:
        for path in sessions.values():
            path.unlink()
    print(
        f"\n{args.connections} connections, {args.duration} s each, {args.brokers} brokers' sessions"
        + (f", {len(session_lines(sessions['clients']))} clients' sessions" if "clients" in sessions else "")
    )
    for title, runs in passes:
        for number, rows in enumerate(runs, 1):
            print_table(f"{title}, run {number} of {len(runs)}", rows, queries)
        if len(runs) > 1:
            print_table(f"{title}, the median run of {len(runs)} per page", median_rows(runs), queries)
            for rows in zip(*runs, strict=True):
                print(f"- {rows[0].name}: target met in {sum(row.met for row in rows)} of {len(rows)} runs")


def session_lines(path: Path) -> list[tuple[str, str]]:
    return [tuple(line.split("\t")) for line in path.read_text().splitlines() if line]


def warm_up(lines: dict[str, list[tuple[str, str]]], targets) -> None:
    """Every page once per session (for brokers, each of their client pages once), 8 at a time."""
    jobs = set()
    for _, path, _, kind in targets:
        for cookie, client in lines[kind]:
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
    stock_rps: float
    stock_p95_ms: float  # stock Django's own tail at 50 connections, in the same moments
    floor_rps: float
    page: dict
    latency: open_loop.Result

    @property
    def ratio(self) -> float:
        """The page's throughput as a share of stock Django's (the target)."""
        return self.page["rps"] / self.stock_rps

    @property
    def ratio_to_floor(self) -> float:
        return self.page["rps"] / self.floor_rps

    @property
    def p95_ms(self) -> float:
        return self.page["p95_ms"]

    @property
    def errors(self) -> int:
        return int(self.page["errors"] + self.page["non2xx"]) + self.latency.errors

    @property
    def met(self) -> bool:
        return self.ratio >= self.share and self.p95_ms < P95_LIMIT_MS and not self.errors


def run_pass(figures_cache: bool, sessions: dict[str, Path], targets, args, repeats: int) -> list[list[Row]]:
    """`repeats` runs; in each, every page is measured in turns with both floors.

    On a shared 2-core machine the floor itself moves by half between minutes, so each page is
    compared with the floors measured in the same moments.
    """
    servers = serve(figures_cache)
    lines = {kind: session_lines(path) for kind, path in sessions.items()}
    try:
        runs = []
        for _ in range(repeats):
            # Again before each run: entries expire (FIGURES_TIMEOUT), as on a server whose pages are in use.
            started = time.monotonic()
            warm_up(lines, targets)
            print(
                f"  warm-up ({'cache' if figures_cache else 'no cache'}): {time.monotonic() - started:.0f} s",
                flush=True,
            )
            rows = []
            for name, path, share, kind in targets:
                stock, floor, page = in_turns(path, sessions["brokers"], sessions[kind], args)
                latency = open_loop.run(
                    port=PORT, path=path, sessions=lines[kind], rate=share * stock["rps"], duration=args.duration
                )
                rows.append(Row(name, share, stock["rps"], stock["p95_ms"], floor, page, latency))
                print(
                    f"  {name}: {rows[-1].ratio:.0%} of stock ({stock['rps']:.0f} req/s), "
                    f"{rows[-1].ratio_to_floor:.0%} of the portal floor, wrk p95 {page['p95_ms']:.0f} ms",
                    flush=True,
                )
            runs.append(rows)
        return runs
    finally:
        for server in servers:
            os.killpg(server.pid, signal.SIGTERM)
        for server in servers:
            try:
                server.wait(timeout=40)
            except subprocess.TimeoutExpired:  # requests still queued from the load: stop hard
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=10)


def in_turns(
    path: str, floor_sessions: Path, sessions: Path, args, turns: int = 5, script: str = "wrk_sessions.lua"
) -> tuple[dict, float, dict]:
    """Stock Django's, the portal floor's and the page's throughput, in alternating turns of a few seconds.

    The floor of this shared machine moves by half from one minute to the next; taking turns
    exposes the floors and the page to the same moments, so their ratio is about the page.
    """
    seconds = max(2, args.duration // turns)
    stock = floor = page = None
    for _ in range(turns):
        stock = _add(stock, wrk(FLOOR_PATH, floor_sessions, seconds, args.connections, port=STOCK_PORT))
        floor = _add(floor, wrk(FLOOR_PATH, floor_sessions, seconds, args.connections))
        page = _add(page, wrk(path, sessions, seconds, args.connections, script=script))
    elapsed = turns * seconds
    return (
        {**stock, "rps": stock["requests"] / elapsed},
        floor["requests"] / elapsed,
        {**page, "rps": page["requests"] / elapsed},
    )


def _add(total: dict | None, result: dict) -> dict:
    """Sums of the counts; the worst p95 of the turns (a page must hold it in every one)."""
    if total is None:
        return dict(result)
    summed = {key: total[key] + result[key] for key in ("requests", "errors", "non2xx")}
    summed["p95_ms"] = max(total["p95_ms"], result["p95_ms"])
    return summed


def median_rows(runs: list[list[Row]]) -> list[Row]:
    """Per page, the run with the median share of the stock floor (its own floors, rate and latencies)."""
    return [sorted(rows, key=lambda row: row.ratio)[len(rows) // 2] for rows in zip(*runs, strict=True)]


def query_counts(sessions: dict[str, Path], targets) -> dict[str, int]:
    """Queries per request of each page once warm, counted in-process with one session of its kind."""
    first = {kind: session_lines(path)[0] for kind, path in sessions.items()}
    pages = {name: (first[kind][0], path.replace("{client}", first[kind][1])) for name, path, _, kind in targets}
    script = f"""
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
for name, (cookie, path) in {pages!r}.items():
    browser = Client(HTTP_HOST="127.0.0.1")
    browser.cookies.load(cookie)
    browser.get(path)
    with CaptureQueriesContext(connection) as queries:
        status = browser.get(path).status_code
    print(f"QUERIES\t{{name}}\t{{len(queries)}}\t{{status}}")
"""
    return query_lines(manage("shell", "-c", script, capture_output=True, text=True).stdout)


def query_lines(out: str, ok: str = "200") -> dict[str, int]:
    """The "QUERIES<TAB>name<TAB>count<TAB>status" lines of a shell run: the count, or -1 for another status."""
    counts = {}
    for line in out.splitlines():
        if line.startswith("QUERIES\t"):
            _, name, count, status = line.split("\t")
            counts[name] = int(count) if status == ok else -1
    return counts


def print_table(title: str, rows: list[Row], queries: dict[str, int]) -> None:
    print(f"\n{title}\n")
    print(
        "| page | stock Django req/s | portal floor req/s | page req/s | % of stock | target | % of portal floor "
        "| wrk p95 ms (50 conn.) | stock's wrk p95 ms | rate sent | p50 / p95 ms at that rate | queries | errors | verdict |"
    )
    print("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for row in rows:
        latency = row.latency
        print(
            f"| {row.name} | {row.stock_rps:.0f} | {row.floor_rps:.0f} | {row.page['rps']:.0f} | {row.ratio:.0%} "
            f"| ≥ {row.share:.0%}, p95 < {P95_LIMIT_MS} ms | {row.ratio_to_floor:.0%} | {row.p95_ms:.0f} | {row.stock_p95_ms:.0f} "
            f"| {latency.rate:.0f}/s | {latency.p50_ms:.0f} / {latency.p95_ms:.0f} | {queries.get(row.name, '?')} "
            f"| {row.errors} | {'met' if row.met else 'MISSED'} |"
        )


if __name__ == "__main__":
    main()
