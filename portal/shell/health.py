"""Checks behind /healthz: the database, the cache, the broker, and a worker's recent heartbeat.

The checks run at once, each in its own thread, and /healthz waits for them at most
PORTAL_HEALTHZ_TIMEOUT seconds in all: a check that has not answered by then is reported as
"timeout", so a hung Redis (or database) costs the answer that long and no longer. A check still
running when the next /healthz comes is joined rather than started again, so a dependency that hangs
for minutes holds one thread per check, not one per request.

The answer names each part with a word from a fixed list ("ok", "eager", "timeout", "error",
"stale", "no worker") and nothing else: no exception text, host, port or user name reaches an
unauthenticated caller. The details go to the log.
"""

import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.cache import caches
from django.db import connection, connections
from django.db.models import Count, Q
from django.utils import timezone
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

OK, EAGER, TIMEOUT, ERROR = "ok", "eager", "timeout", "error"
STALE, NO_WORKER = "stale", "no worker"


class Unhealthy(Exception):
    """A check's finding, with the public word for it."""

    def __init__(self, word: str, detail: str = ""):
        super().__init__(detail or word)
        self.word = word


def _tasks_eager() -> bool:
    from portal.celery import app

    return bool(app.conf.task_always_eager)


def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return OK


def check_cache() -> str:
    """Redis itself where there is one: the default cache would answer from the database while it is away."""
    cache = caches["redis"] if "redis" in settings.CACHES else caches["default"]
    key = f"healthz:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=5)
    if cache.get(key) != "1":
        raise Unhealthy(ERROR, "the cache did not return what was stored")
    cache.delete(key)
    return OK


def check_broker() -> str:
    if _tasks_eager():
        return EAGER
    from portal.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=0, timeout=1)
    return OK


def check_worker() -> str:
    """A worker wrote its heartbeat row (portal.core.worker_heartbeat) recently enough."""
    if _tasks_eager():
        return EAGER
    from portal.core.models import WorkerHeartbeat

    fresh_since = timezone.now() - timedelta(seconds=settings.PORTAL_WORKER_STALE_SECONDS)
    counts = WorkerHeartbeat.objects.aggregate(alive=Count("pk", filter=Q(seen_at__gte=fresh_since)), known=Count("pk"))
    if counts["alive"]:
        return OK
    if counts["known"]:
        raise Unhealthy(STALE, f"no heartbeat since {fresh_since:%H:%M:%S} from {counts['known']} known workers")
    raise Unhealthy(NO_WORKER, "no worker has written a heartbeat")


CHECKS: dict[str, Callable[[], str]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
    "worker": check_worker,
}


class _Flight:
    """One run of one check in a daemon thread; every /healthz that comes meanwhile waits on it."""

    def __init__(self, name: str, check: Callable[[], str]):
        self.name = name
        self.check = check
        self.result = TIMEOUT
        self.done = threading.Event()
        threading.Thread(target=self._run, name=f"healthz-{name}", daemon=True).start()

    def _run(self) -> None:
        try:
            self.result = self.check()
        except Unhealthy as finding:
            self.result = finding.word
            logger.warning("Health check %s: %s", self.name, finding)
        except Exception as exc:  # any failure is a finding to report, not a crash
            self.result = TIMEOUT if _is_timeout(exc) else ERROR
            logger.warning("Health check %s failed", self.name, exc_info=True)
        finally:
            self.done.set()
            # This thread's own database connection, if the check opened one.
            connections.close_all()


def _is_timeout(exc: BaseException | None) -> bool:
    """A socket timeout, also when a client library wrapped it (kombu wraps Redis' errors)."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, TimeoutError | RedisTimeoutError):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


_flights: dict[str, _Flight] = {}
_flights_lock = threading.Lock()


def _flight(name: str, check: Callable[[], str]) -> _Flight:
    with _flights_lock:
        flight = _flights.get(name)
        if flight is None or flight.done.is_set() or flight.check is not check:
            flight = _flights[name] = _Flight(name, check)
        return flight


def checks_in_flight() -> list[str]:
    """The checks still running (hung on a dependency, or simply not finished yet)."""
    with _flights_lock:
        return [name for name, flight in _flights.items() if not flight.done.is_set()]


def run_checks(*, timeout: float | None = None) -> tuple[bool, dict[str, str]]:
    """Run every check at once; after `timeout` seconds in all, what has not answered is "timeout"."""
    timeout = settings.PORTAL_HEALTHZ_TIMEOUT if timeout is None else timeout
    deadline = time.monotonic() + timeout
    flights = {name: _flight(name, check) for name, check in CHECKS.items()}
    results = {}
    for name, flight in flights.items():
        flight.done.wait(max(0.0, deadline - time.monotonic()))
        results[name] = flight.result if flight.done.is_set() else TIMEOUT
    healthy = all(result in (OK, EAGER) for result in results.values())
    return healthy, results
