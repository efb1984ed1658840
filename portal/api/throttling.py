"""Per-key rate limit: a fixed-window counter, incremented atomically.

Each API key may make PORTAL_API_KEY_RATE calls ("120/minute", DRF's rate syntax, read on every
call so an override applies at once) per window; windows are aligned to the clock (each minute on
the minute). Every call increments the key's counter for the current window in one atomic step
that returns the new value, and is served if that value is within the rate. Of any number of
parallel calls exactly `rate` therefore see a value within it: there is no read-then-write for two
calls to interleave in (DRF's SimpleRateThrottle read a list from the cache and wrote it back, so
parallel calls all read the same list and 1,000 of them got through 329 at a limit of 120).

Where the count lives:

- In Redis when the deployment has one (the `redis` cache alias, portal/core/cache.py): INCR, and
  EXPIRE on the first hit, in one Lua script (one round trip, atomic). Not `cache.add` then
  `cache.incr`: `incr` is EXISTS then INCR, and a key that expired between the two would come back
  as a counter without a TTL.
- In the database otherwise: one row per key and window, `INSERT … ON CONFLICT DO UPDATE SET hits =
  hits + 1 RETURNING hits`; the upsert's row lock serialises parallel calls. The embedded SQLite demo
  counts here, as its local-memory cache lives in one process and a per-process count is no limit.
- While Redis is down or hung the database counter takes over. A call waits at most the cache's
  socket timeout once; then this process leaves Redis alone while the Redis circuit it shares with
  the cache is open (PORTAL_REDIS_RETRY_SECONDS). Letting calls
  through uncounted would lift the limit exactly when something is already wrong, and refusing them
  all would stop every integration because of a cache. Calls counted in Redis are not seen by the
  database counter, so in the window where counting moves a key can get up to twice its rate.

A fixed window lets a key make up to twice its rate across a window boundary (the end of one
minute and the start of the next); the rate protects capacity, and that burst is bounded.
Requests with a session are not counted: people clicking through pages are not the load a script
can make. Over the rate DRF answers 429 with Retry-After (the seconds left in the window), in the
API's error format.
"""

import logging
import math
import time

from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.db.models import F
from django_redis import get_redis_connection
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from portal.core.cache import PRIMARY_ERRORS, redis_circuit

from .models import ApiKey, ApiKeyRateWindow

logger = logging.getLogger(__name__)

# Counter keys outlive their window a little, so a web server whose clock is slightly behind still
# finds the count of the window it believes is current.
KEY_GRACE_SECONDS = 60

_INCR_WITH_EXPIRY = """
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then
    redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return hits
"""

# PostgreSQL and SQLite (3.35+) both take this upsert with RETURNING; the table is ApiKeyRateWindow's.
_UPSERT = (
    'INSERT INTO "portal_api_apikeyratewindow" AS w (api_key_id, window_seconds, window_start, hits) '
    "VALUES (%s, %s, %s, 1) "
    "ON CONFLICT (api_key_id, window_seconds, window_start) DO UPDATE SET hits = w.hits + 1 "
    "RETURNING hits"
)


def _clock() -> float:
    return time.time()


def rate_parse(rate: str) -> tuple[int, int]:
    """("120/minute") -> (120, 60); DRF's syntax and parser."""
    return SimpleRateThrottle.parse_rate(None, rate)


def rate_count(*, key: ApiKey, window_start: int, window_seconds: int) -> int:
    """Count one call of `key` in the window; returns the calls in the window so far, this one included."""
    circuit = redis_circuit()
    if "redis" in settings.CACHES and circuit.allows():
        try:
            return _redis_count(key=key, window_start=window_start, window_seconds=window_seconds)
        except PRIMARY_ERRORS:
            circuit.trip()
            logger.warning("Redis unreachable; API key calls counted in the database", exc_info=True)
    return _database_count(key=key, window_start=window_start, window_seconds=window_seconds)


def redis_counter_key(*, key: ApiKey, window_start: int, window_seconds: int) -> str:
    return caches["redis"].make_and_validate_key(f"throttle:api_key:{key.prefix}:{window_seconds}:{window_start}")


def _redis_count(*, key: ApiKey, window_start: int, window_seconds: int) -> int:
    name = redis_counter_key(key=key, window_start=window_start, window_seconds=window_seconds)
    # The cache API has no atomic "increment, creating with a TTL"; Redis itself does, in one script.
    client = get_redis_connection("redis")
    return int(client.eval(_INCR_WITH_EXPIRY, 1, name, window_seconds + KEY_GRACE_SECONDS))


def _database_count(*, key: ApiKey, window_start: int, window_seconds: int) -> int:
    # One statement in autocommit: the row lock is held only for the increment itself.
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT, [key.pk, window_seconds, window_start])
        return int(cursor.fetchone()[0])


def rate_windows_purge(*, now: float | None = None, batch: int = 5000) -> int:
    """Delete database counters of windows that have ended; returns how many went."""
    now = _clock() if now is None else now
    ended = ApiKeyRateWindow.objects.filter(window_start__lt=int(now) - KEY_GRACE_SECONDS - F("window_seconds"))
    deleted = 0
    while True:
        ids = list(ended.values_list("pk", flat=True)[:batch])
        if not ids:
            return deleted
        deleted += ApiKeyRateWindow.objects.filter(pk__in=ids).delete()[0]


class ApiKeyRateThrottle(BaseThrottle):
    def allow_request(self, request, view):
        if not isinstance(request.auth, ApiKey):
            return True
        limit, window_seconds = rate_parse(settings.PORTAL_API_KEY_RATE)
        now = _clock()
        window_start = int(now // window_seconds * window_seconds)
        self._retry_after = max(1, math.ceil(window_start + window_seconds - now))
        hits = rate_count(key=request.auth, window_start=window_start, window_seconds=window_seconds)
        return hits <= limit

    def wait(self):
        return getattr(self, "_retry_after", None)
