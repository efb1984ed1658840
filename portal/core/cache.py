"""The shared cache: Redis, with the database standing in whenever Redis is down or hung.

Everything the portal caches (sessions, signed-in users, rate-limit counters, figures, unread
counts) goes through the `default` alias, a `FailoverCache`. It sends each call to Redis (the
`redis` alias, django-redis) and, when Redis fails, opens a circuit for a few seconds in this
process: calls go straight to the fallback (the `database` alias, Django's database cache) instead
of each waiting out a timeout. So a Redis outage costs one short timeout per process per retry
period, and whatever relies on the cache for correctness — allauth's login lockout, the API rate
limit — keeps counting in the database rather than failing open or raising.

What is written while the circuit is open lands in the database only; Redis may still hold the
older value (a hung Redis keeps its memory). Each such key is noted in the database
(`CacheKeyToForget`), and the first call after the retry period deletes all noted keys from Redis
and from the database cache before the circuit closes, so no stale value (a signed-out session, a
removed role) comes back, neither now nor during a later outage.
Processes notice the recovery one by one: for at most the retry period a process that still has its
circuit open may write a key that another, already recovered process reads from Redis.
"""

import contextvars
import logging
import threading
import time
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.db import DatabaseError, transaction
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# What an unreachable, refusing or hung Redis raises through django-redis.
PRIMARY_ERRORS = (RedisError, OSError)


def cache_settings(redis_url: str, *, connect_timeout: float = 0.1, timeout: float = 0.25) -> dict:
    """The CACHES setting for a deployment with Redis (also used by tests on a private Redis)."""
    return {
        "default": {
            "BACKEND": "portal.core.cache.FailoverCache",
            "OPTIONS": {"PRIMARY": "redis", "FALLBACK": "database"},
        },
        "redis": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": redis_url,
            "OPTIONS": {
                # A healthy Redis answers in well under a millisecond here; these bound what a hung one costs.
                "SOCKET_CONNECT_TIMEOUT": connect_timeout,
                "SOCKET_TIMEOUT": timeout,
            },
        },
        "database": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "portal_cache"},
    }


class Circuit:
    """Whether a service is worth calling from this process: closed (yes), open (no, until a time).

    It opens for `settings.PORTAL_REDIS_RETRY_SECONDS` (read when it opens, so tests can shorten it).
    """

    def __init__(self, name: str):
        self.name = name
        self._open_until = 0.0
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        return self._open_until > 0.0

    def allows(self) -> bool:
        """True when closed; when open, False until the retry time has come."""
        return self._open_until == 0.0 or time.monotonic() >= self._open_until

    def trip(self) -> None:
        retry_seconds = settings.PORTAL_REDIS_RETRY_SECONDS
        if not self.is_open:
            logger.warning("%s unreachable; circuit open, retried in %s s", self.name, retry_seconds)
        self._open_until = time.monotonic() + retry_seconds

    def try_recover(self, recover) -> bool:
        """Run `recover()` in one thread once the retry time has come; close the circuit if it succeeds."""
        if not self._lock.acquire(blocking=False):
            return False  # another thread is recovering; this call stays on the fallback
        try:
            if not self.is_open:
                return True
            if time.monotonic() < self._open_until:
                return False
            recover()
            self._open_until = 0.0
            logger.warning("%s reachable again; circuit closed", self.name)
            return True
        finally:
            self._lock.release()

    def reset(self) -> None:
        self._open_until = 0.0


_circuits: dict[str, Circuit] = {}
_circuits_lock = threading.Lock()


def circuit(name: str) -> Circuit:
    """The process-wide circuit for a service (shared by every thread and every cache object)."""
    with _circuits_lock:
        if name not in _circuits:
            _circuits[name] = Circuit(name)
        return _circuits[name]


def redis_circuit() -> Circuit:
    """Redis carries the cache and the Celery broker: one circuit for both."""
    return circuit("redis")


class FailoverCache(BaseCache):
    """A cache over two aliases: OPTIONS PRIMARY (Redis) and FALLBACK (the database cache)."""

    def __init__(self, location, params):
        super().__init__(params)
        options = params.get("OPTIONS", {})
        self._primary_alias = options["PRIMARY"]
        self._fallback_alias = options.get("FALLBACK")
        self._circuit = redis_circuit()

    @property
    def primary(self) -> BaseCache:
        return caches[self._primary_alias]

    @property
    def fallback(self) -> BaseCache | None:
        return caches[self._fallback_alias] if self._fallback_alias else None

    # --- the routing ----------------------------------------------------------------------

    def _call(self, method: str, args, kwargs, *, writes=(), default=None):
        if not self._usable():
            return self._degraded(method, args, kwargs, writes=writes, default=default)
        try:
            return getattr(self.primary, method)(*args, **kwargs)
        except PRIMARY_ERRORS:
            self._circuit.trip()
            return self._degraded(method, args, kwargs, writes=writes, default=default)

    def _usable(self) -> bool:
        if not self._circuit.is_open:
            return True
        if not self._circuit.allows():
            return False
        return self._circuit.try_recover(self._forget_noted_keys)

    def _degraded(self, method, args, kwargs, *, writes, default):
        if writes:
            _note_keys(writes)
        if self.fallback is None:
            return default
        return getattr(self.fallback, method)(*args, **kwargs)

    def _forget_noted_keys(self) -> None:
        """Delete from Redis every key written elsewhere while it was away (raises if Redis still fails)."""
        from portal.core.models import CacheKeyToForget

        noted = list(CacheKeyToForget.objects.order_by("pk").values_list("pk", "key", "version")[:10_000])
        by_version: dict = {}
        for _, key, version in noted:
            by_version.setdefault(version or None, []).append(key)
        for version, keys in by_version.items():
            self.primary.delete_many(keys, version=version)
            # The database's copies are from the outage; from now on Redis holds the truth.
            if self.fallback is not None:
                self.fallback.delete_many(keys, version=version)
        if not noted:
            self.primary.get("portal:circuit-probe")  # proves Redis answers before the circuit closes
        elif len(noted) == 10_000:
            raise RedisError("more keys to forget than one pass takes; the circuit stays open")  # next pass goes on
        if noted:
            CacheKeyToForget.objects.filter(pk__lte=noted[-1][0]).delete()

    # --- the cache API ----------------------------------------------------------------------

    def get(self, key, default=None, version=None):
        return self._call("get", (key, default), {"version": version}, default=default)

    def get_many(self, keys, version=None):
        return self._call("get_many", (keys,), {"version": version}, default={})

    def has_key(self, key, version=None):
        return self._call("has_key", (key,), {"version": version}, default=False)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        self._call("set", (key, value, timeout), {"version": version}, writes=[(key, version)])

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", (key, value, timeout), {"version": version}, writes=[(key, version)], default=False)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", (key, timeout), {"version": version}, writes=[(key, version)], default=False)

    def delete(self, key, version=None):
        return self._call("delete", (key,), {"version": version}, writes=[(key, version)], default=False)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        writes = [(key, version) for key in data]
        return self._call("set_many", (data, timeout), {"version": version}, writes=writes, default=list(data))

    def delete_many(self, keys, version=None):
        keys = list(keys)
        self._call("delete_many", (keys,), {"version": version}, writes=[(key, version) for key in keys])

    def incr(self, key, delta=1, version=None):
        return self._call("incr", (key, delta), {"version": version}, writes=[(key, version)])

    def decr(self, key, delta=1, version=None):
        return self._call("decr", (key, delta), {"version": version}, writes=[(key, version)])

    def clear(self):
        self._call("clear", (), {})
        if self.fallback is not None and self._circuit.is_open:
            logger.warning("cache cleared while Redis is away: only the database cache was cleared")

    def close(self, **kwargs):
        # Django closes every cache it handed out at the end of a request; the aliases close their own.
        return None


def _note_keys(writes) -> None:
    """Remember keys written while Redis is away, so that Redis forgets them when it is back."""
    from portal.core.models import CacheKeyToForget

    rows = [CacheKeyToForget(key=str(key)[:250], version=version or 0) for key, version in writes]
    try:
        # Its own savepoint: a failure here must not break the caller's transaction.
        with transaction.atomic():
            CacheKeyToForget.objects.bulk_create(rows, ignore_conflicts=True)
    except DatabaseError:
        logger.exception("could not note cache keys to forget: %s", [key for key, _ in writes])


# --- values that must never outlive a change -----------------------------------------------

TOMBSTONE = "portal:tombstone"
# "Not read yet" for `cached_until_changed(fetched=…)`: None is a read that found nothing.
NOT_FETCHED = object()

# Per-user entries every page needs (the signed-in user, the unread count): read together with the
# session in the request's first round trip (portal.accounts.sessions), then taken from here.
_read_ahead: contextvars.ContextVar = contextvars.ContextVar("portal_cache_read_ahead", default=None)
_read_ahead_keys: list = []


def register_read_ahead(key_for_user) -> None:
    """Read the entry `key_for_user(user_id)` with the session (apps call this in AppConfig.ready())."""
    if key_for_user not in _read_ahead_keys:
        _read_ahead_keys.append(key_for_user)


def read_ahead_keys(user_id) -> list[str]:
    return [key_for_user(user_id) for key_for_user in _read_ahead_keys]


@contextmanager
def read_ahead_scope():
    """One request: entries read ahead are kept until each is used once."""
    token = _read_ahead.set({})
    try:
        yield
    finally:
        _read_ahead.reset(token)


def read_ahead_take(key: str):
    """The entry read ahead under `key` in this request (each is used once), else NOT_FETCHED."""
    ahead = _read_ahead.get()
    if ahead and key in ahead:
        return ahead.pop(key)
    return NOT_FETCHED


def read_ahead_store(values: dict) -> None:
    store = _read_ahead.get()
    if store is not None:
        store.update(values)


def cached_until_changed(cache: BaseCache, key: str, compute, *, timeout, fetched=NOT_FETCHED):
    """`compute()`, cached under `key` until `forget(key)` is called; never a value from before it.

    A reader that computed from the database just before a change committed must not store its
    result after the change's `forget()` ran: `forget()` leaves a tombstone for a few seconds, and
    readers only `add` (never overwrite), so such a late write finds the tombstone and is dropped.
    `timeout` is seconds, or a function of the computed value giving them. None is never cached.
    `fetched` is what the caller already read under `key` (with others, in one round trip); else an
    entry read ahead in this request is used once (a second read in the request asks the cache again).
    """
    if fetched is NOT_FETCHED:
        ahead = _read_ahead.get()
        if ahead and key in ahead:
            fetched = ahead.pop(key)
    value = cache.get(key) if fetched is NOT_FETCHED else fetched
    if value is None or (isinstance(value, str) and value == TOMBSTONE):
        fresh = compute()
        if value is None and fresh is not None:
            cache.add(key, fresh, timeout=timeout(fresh) if callable(timeout) else timeout)
        return fresh
    return value


def forget(cache: BaseCache, key: str) -> None:
    """Make `cached_until_changed` compute `key` afresh: now, and again once the transaction commits."""

    def tombstone():
        # Long enough for any reader that started before the change to have finished.
        cache.set(key, TOMBSTONE, timeout=settings.PORTAL_CACHE_TOMBSTONE_SECONDS)

    tombstone()
    transaction.on_commit(tombstone)
