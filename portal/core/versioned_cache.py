"""Figures read from precomputed tables, cached until the data behind them changes.

Pages such as a broker's dashboard are read far more often than the data behind them changes
(once per import or price day). Every change that can alter such a figure — an import, a
revaluation, a client reassigned or shared, a role changed — calls `data_changed()`, which bumps
one version number; cached figures carry that number in their key, so after a change no reader
sees an older entry. Entries also expire after `FIGURES_TIMEOUT`, a bound on staleness should a
change ever be missed.

The cache (portal/core/cache.py) stands in with the database while Redis is away and makes Redis
forget what changed meanwhile, so a bump is never lost to an outage.
"""

import contextvars
import time

from django.conf import settings
from django.core.cache import cache
from django.core.signals import request_started
from django.db import transaction

VERSION_KEY = "portal:data-version"
FIGURES_TIMEOUT = 15 * 60

# The version read once per request: a page that reads several cached figures asks Redis for the
# version once. Only inside a request (set when it starts); tasks and shells always read afresh.
_request_memo: contextvars.ContextVar = contextvars.ContextVar("data_version_memo", default=None)


def _request_started(**kwargs) -> None:
    _request_memo.set({})


request_started.connect(_request_started, dispatch_uid="portal.core.versioned_cache")


def data_version() -> int:
    """The current version of the data behind cached figures."""
    memo = _request_memo.get()
    if memo:
        return memo["version"]
    version = cache.get(VERSION_KEY)
    if version is None:
        # A fresh cache (or an evicted or forgotten key): start from the clock so that no old entry matches.
        cache.add(VERSION_KEY, time.time_ns() // 1000, timeout=None)
        version = cache.get(VERSION_KEY)
    if memo is not None and version is not None:
        memo["version"] = version
    return version


def data_changed() -> None:
    """Make every cached figure unreachable; call after writes that change what pages show."""
    memo = _request_memo.get()
    if memo:
        memo.clear()  # this request reads the new version too
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # no version yet: the next reader starts one
        cache.add(VERSION_KEY, time.time_ns() // 1000, timeout=None)


def data_changed_on_commit(*args, **kwargs) -> None:
    """`data_changed` now and again after the surrounding transaction commits.

    Bumping only now would let a reader that runs before the commit cache the old rows under the
    new version. Takes (and ignores) signal arguments, so it can be a signal receiver.
    """
    data_changed()
    transaction.on_commit(data_changed)


def cached_figures(name: str, key_parts: tuple, compute):
    """`compute()`, cached under name + key_parts for the current data version.

    Callers check permissions before calling: the cache holds figures, not access decisions.
    """
    if not settings.PORTAL_FIGURES_CACHE:
        return compute()
    version = data_version()
    if version is None:  # the cache did not keep the version (a cache that stores nothing)
        return compute()
    key = ":".join(["figures", name, str(version), *(str(part) for part in key_parts)])
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, timeout=FIGURES_TIMEOUT)
    return value
