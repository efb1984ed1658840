"""Sessions kept in the database and read through the cache, never revived once ended.

Django's `cached_db` engine reads a session from the cache (one Redis round trip instead of a
database query on every request). Three things are changed:

- a session read from the database is only *added* to the cache, and ending a session leaves a
  short tombstone instead of a plain delete (`portal.core.cache.forget`): a request that loaded
  the session just before a logout or a "sign out everywhere" cannot put it back after it ended;
- the per-user entries every page needs (the signed-in user of `backends.py`, the unread count;
  see `portal.core.cache.register_read_ahead`) are read in the same round trip as the session: a
  session's user never changes (a login starts a new session), so this process remembers which
  user a session key belongs to and asks for all entries at once; the user id in the session data
  decides, the remembered one only saves the later round trips;
- nothing else: saving, expiry and the database rows are Django's.
"""

import threading

from django.conf import settings
from django.contrib.sessions.backends import cached_db
from django.core.cache import caches
from django.utils import timezone

from portal.core.cache import cached_until_changed, forget, read_ahead_keys, read_ahead_store

# session key -> user id, for this process; bounded (forgotten wholesale when full: only a hint).
_users_of_sessions: dict[str, int] = {}
_USERS_OF_SESSIONS_MAX = 100_000
_lock = threading.Lock()


def session_user_remember(session_key: str | None, user_id: int) -> None:
    if not session_key:
        return
    with _lock:
        if len(_users_of_sessions) >= _USERS_OF_SESSIONS_MAX:
            _users_of_sessions.clear()
        _users_of_sessions[session_key] = user_id


class SessionStore(cached_db.SessionStore):
    def load(self):
        cache = caches[settings.SESSION_CACHE_ALIAS]
        user_id = _users_of_sessions.get(self.session_key)
        ahead = read_ahead_keys(user_id) if user_id else []
        found = cache.get_many([self.cache_key, *ahead])
        # What was not found counts as read too (None): the reader computes it without asking again.
        read_ahead_store({key: found.get(key) for key in ahead})
        record = None

        def from_database():
            nonlocal record
            record = (
                self.model.objects.filter(session_key=self.session_key, expire_date__gt=timezone.now())
                .only("session_data", "expire_date")
                .first()
            )
            return self.decode(record.session_data) if record is not None else None

        data = cached_until_changed(
            cache,
            self.cache_key,
            from_database,
            # Cached no longer than the session lives in the database.
            timeout=lambda data: self.get_expiry_age(expiry=record.expire_date),
            fetched=found.get(self.cache_key),
        )
        if data is None:
            # Unknown, expired or ended: start afresh (a new key is made when something is stored).
            self._session_key = None
            return {}
        return data

    def delete(self, session_key=None):
        key = session_key or self.session_key
        super(cached_db.SessionStore, self).delete(session_key)  # the database row, as db.SessionStore does
        if key is not None:
            forget(caches[settings.SESSION_CACHE_ALIAS], self.cache_key_prefix + key)
