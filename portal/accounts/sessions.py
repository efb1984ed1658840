"""Sessions kept in the database and read through the cache, never revived once ended.

Django's `cached_db` engine reads a session from the cache (one Redis round trip instead of a
database query on every request). Two things are changed: a session read from the database is
only *added* to the cache, and ending a session leaves a short tombstone instead of a plain
delete (`portal.core.cache.forget`). A request that loaded the session just before a logout or a
"sign out everywhere" therefore cannot put it back into the cache after it ended.
"""

from django.conf import settings
from django.contrib.sessions.backends import cached_db
from django.core.cache import caches
from django.utils import timezone

from portal.core.cache import cached_until_changed, forget


class SessionStore(cached_db.SessionStore):
    def load(self):
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
            caches[settings.SESSION_CACHE_ALIAS],
            self.cache_key,
            from_database,
            # Cached no longer than the session lives in the database.
            timeout=lambda data: self.get_expiry_age(expiry=record.expire_date),
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
