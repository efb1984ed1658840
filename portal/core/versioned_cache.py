"""Figures read from precomputed tables, cached until the data behind them changes.

Pages such as a broker's dashboard are read far more often than the data behind them changes
(once per import or price day). Every change that can alter such a figure — an import, a
revaluation, a client reassigned or shared, a role changed — calls `data_changed()`, which bumps
one version number; cached figures carry that number in their key, so after a change no reader
sees an older entry. Entries also expire after `FIGURES_TIMEOUT`, a bound on staleness should a
change ever be missed.

The cache is an accelerator only: if it is unreachable the figures are computed as if nothing
were cached, and the page still works.
"""

import logging
import threading
import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

VERSION_KEY = "portal:data-version"
FIGURES_TIMEOUT = 15 * 60
# What an unreachable or hung Redis raises (the connection and socket timeouts are set in settings).
CACHE_ERRORS = (RedisError, OSError)


def data_version() -> int | None:
    """The current version, or None when the cache cannot be reached."""
    try:
        version = cache.get(VERSION_KEY)
        if version is None:
            # A fresh cache (or an evicted key): start from the clock so that no old entry matches.
            cache.add(VERSION_KEY, time.time_ns() // 1000, timeout=None)
            version = cache.get(VERSION_KEY)
        return version
    except CACHE_ERRORS:  # a cache outage must not take pages down with it
        logger.warning("cache unreachable; figures computed uncached", exc_info=True)
        return None


def data_changed(*, retry: bool = True) -> None:
    """Make every cached figure unreachable; call after writes that change what pages show.

    Cached lists are scoped by access (a broker's client list), so a lost bump would keep showing
    a revoked share's client there. A Redis that stalled for a moment is asked again, in the
    background, after each of `settings.PORTAL_CACHE_BUMP_RETRY_DELAYS` seconds.
    """
    _bump_or_retry(list(settings.PORTAL_CACHE_BUMP_RETRY_DELAYS) if retry else [])


def _bump_or_retry(delays: list[float]) -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # no version yet: the next reader starts one
        cache.add(VERSION_KEY, time.time_ns() // 1000, timeout=None)
    except CACHE_ERRORS:
        if not delays:
            # Entries written before the outage expire after FIGURES_TIMEOUT.
            logger.error("cache unreachable; data version not bumped", exc_info=True)
            return
        logger.warning("cache unreachable; data version bump tried again in %s s", delays[0], exc_info=True)
        retry = threading.Timer(delays[0], _bump_or_retry, args=(delays[1:],))
        retry.daemon = True
        retry.start()


def data_changed_on_commit(*args, **kwargs) -> None:
    """`data_changed` now and again after the surrounding transaction commits.

    Bumping only now would let a reader that runs before the commit cache the old rows under the
    new version. Takes (and ignores) signal arguments, so it can be a signal receiver.
    """
    data_changed(retry=False)  # the bump after the commit is the one that must land
    transaction.on_commit(data_changed)


def cached_figures(name: str, key_parts: tuple, compute):
    """`compute()`, cached under name + key_parts for the current data version.

    Callers check permissions before calling: the cache holds figures, not access decisions.
    """
    version = data_version() if settings.PORTAL_FIGURES_CACHE else None
    if version is None:
        return compute()
    key = ":".join(["figures", name, str(version), *(str(part) for part in key_parts)])
    return cached_value(key, compute, timeout=FIGURES_TIMEOUT)


def cached_value(key: str, compute, *, timeout: int):
    """`compute()`, cached under `key` for `timeout` seconds; computed uncached when Redis is away."""
    try:
        value = cache.get(key)
    except CACHE_ERRORS:
        logger.warning("cache unreachable; computed uncached", exc_info=True)
        return compute()
    if value is None:
        value = compute()
        try:
            cache.set(key, value, timeout=timeout)
        except CACHE_ERRORS:
            logger.warning("cache unreachable; value not stored", exc_info=True)
    return value


def forget_on_commit(key: str) -> None:
    """Drop a cached value now and again after the surrounding transaction commits.

    Dropping only now would let a reader that runs before the commit cache the old rows again.
    """

    def forget():
        try:
            cache.delete(key)
        except CACHE_ERRORS:  # the entry expires after its timeout
            logger.warning("cache unreachable; %s not dropped", key, exc_info=True)

    forget()
    transaction.on_commit(forget)
