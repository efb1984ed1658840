"""The header's count of open items, cached per user until any item changes.

Items change for many users at once (a signed request waits for every back-office member), so a
change cannot forget each user's entry. Instead one version number covers them all: every change
bumps it (`items_changed`), and a user's entry holds the version it was counted at. Both the
version and the user's entry are read with the session in the request's first round trip
(`register_read_ahead`), so a page whose count is still valid costs no extra call.
"""

import time

from django.core.cache import cache
from django.db import transaction

from portal.core.cache import NOT_FETCHED, read_ahead_take

VERSION_KEY = "inbox:version"
# At the latest after this long a count is made afresh (should a change ever be missed).
COUNT_TIMEOUT = 600


def count_key(user_id) -> str:
    return f"inbox:count:{user_id}"


def version_key(user_id) -> str:
    """The same key for everyone; a function of the user as `register_read_ahead` wants it."""
    return VERSION_KEY


def _read(key: str):
    value = read_ahead_take(key)
    return cache.get(key) if value is NOT_FETCHED else value


def items_version():
    version = _read(VERSION_KEY)
    if version is None:
        # A fresh cache (or an evicted key): start from the clock so that no older entry matches.
        cache.add(VERSION_KEY, time.time_ns() // 1000, timeout=None)
        version = cache.get(VERSION_KEY)
    return version


def cached_count(user, compute) -> int:
    """`compute()` for this user, or the entry counted at the current version with the same roles."""
    version = items_version()
    stamp = (version, tuple(sorted(user.roles)))
    entry = _read(count_key(user.pk))
    if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == stamp:
        return entry[1]
    count = compute()
    if version is not None:
        cache.set(count_key(user.pk), (stamp, count), timeout=COUNT_TIMEOUT)
    return count


def items_changed() -> None:
    """Every cached count is stale: now, and again once the surrounding transaction commits.

    Bumping only now would let a reader that counts before the commit store the old figure under
    the new version.
    """
    _bump()
    transaction.on_commit(_bump)


def _bump() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # no version yet: the next reader starts one
        cache.add(VERSION_KEY, time.time_ns() // 1000, timeout=None)
