"""The user's signed-in sessions: recorded at login, seen on use, listed, and ended from elsewhere.

A `UserSession` row follows each session that a login starts (bound to Django's session row, so it
goes with it). Requests note the session's last activity and address at most once a minute per
process (`SEEN_INTERVAL`), so a warm page still costs no query. A session that has none yet (one
started before these rows existed, or given a new key by the second factor) gets it on its next
request.

The list shows only sessions that would still sign the user in: not expired, and holding the
user's current session hash (a changed password ends the others). "Sign out everywhere else" ends
the other sessions through the session engine, which leaves tombstones in the cache, so each of
them is refused on its very next request (`portal.accounts.sessions`).
"""

import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from importlib import import_module

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from portal.audit.middleware import client_ip
from portal.audit.services import audit_record

from .models import UserSession

SEEN_INTERVAL = 60  # seconds between two notes of one session's activity, per process
_USER_AGENT_MAX = UserSession._meta.get_field("user_agent").max_length

# session key -> monotonic time of the last note, for this process; bounded (cleared when full).
_seen: dict[str, float] = {}
_SEEN_MAX = 100_000
_lock = threading.Lock()


@dataclass(frozen=True)
class SessionRow:
    """One active session as the profile lists it."""

    device: str
    ip: str | None
    created_at: datetime
    last_seen_at: datetime
    current: bool


def _engine():
    return import_module(settings.SESSION_ENGINE)


def _request_fields(request) -> dict:
    return {
        "ip": client_ip(request),
        "user_agent": request.META.get("HTTP_USER_AGENT", "")[:_USER_AGENT_MAX],
    }


def _noted(session_key: str) -> None:
    with _lock:
        if len(_seen) >= _SEEN_MAX:
            _seen.clear()
        _seen[session_key] = time.monotonic()


def user_session_record(*, request, user) -> None:
    """Receiver work for a login: the new session's row (the key was cycled just before)."""
    key = request.session.session_key
    if not key:
        return
    now = timezone.now()
    fields = {"user": user, "last_seen_at": now, **_request_fields(request)}
    try:
        with transaction.atomic():
            UserSession.objects.update_or_create(
                session_id=key, defaults=fields, create_defaults={**fields, "created_at": now}
            )
    except IntegrityError:  # the session row is not there (ended meanwhile): nothing to record
        return
    _noted(key)


def user_session_seen(*, request, user) -> None:
    """Note the session's activity, at most once per SEEN_INTERVAL in this process."""
    key = request.session.session_key
    if not key:
        return
    last = _seen.get(key)
    if last is not None and time.monotonic() - last < SEEN_INTERVAL:
        return
    _noted(key)
    fields = {"last_seen_at": timezone.now(), **_request_fields(request)}
    if UserSession.objects.filter(session_id=key, user_id=user.pk).update(**fields):
        return
    try:
        with transaction.atomic():
            UserSession.objects.get_or_create(session_id=key, defaults={"user_id": user.pk, **fields})
    except IntegrityError:  # ended by another request meanwhile, or not stored yet
        pass


def user_session_list(*, user, current_key: str | None) -> list[SessionRow]:
    """The user's sessions that would still sign them in, the current one first, then by last activity."""
    store = _engine().SessionStore()
    expected_hash = user.get_session_auth_hash()
    rows = []
    records = (
        UserSession.objects.filter(user_id=user.pk, session__expire_date__gt=timezone.now())
        .select_related("session")
        .order_by("-last_seen_at")
    )
    for record in records:
        data = store.decode(record.session.session_data)
        if str(data.get(SESSION_KEY)) != str(user.pk) or not constant_time_compare(
            data.get(HASH_SESSION_KEY, ""), expected_hash
        ):
            continue
        rows.append(
            SessionRow(
                device=device_label(record.user_agent),
                ip=record.ip,
                created_at=record.created_at,
                last_seen_at=record.last_seen_at,
                current=record.session_id == current_key,
            )
        )
    rows.sort(key=lambda row: not row.current)  # stable: the rest stay newest first
    return rows


def user_sessions_end_others(*, user, current_key: str | None) -> int:
    """End every other session of the user ("sign out everywhere else"); audited. Returns how many ended.

    Each ends through the session engine: its database row goes (and its UserSession row with it)
    and the cache keeps a tombstone, so the other browser is signed out on its next request.
    """
    store = _engine().SessionStore()
    keys = list(
        UserSession.objects.filter(user_id=user.pk).exclude(session_id=current_key).values_list("session_id", flat=True)
    )
    for key in keys:
        store.delete(key)
    audit_record(action="auth.sessions_ended", actor=user, obj=user, changes={"ended": len(keys)})
    return len(keys)


_BROWSERS = (
    ("Edge", re.compile(r"Edg(e|A|iOS)?/")),
    ("Opera", re.compile(r"OPR/|Opera")),
    ("Firefox", re.compile(r"Firefox/|FxiOS/")),
    ("Chrome", re.compile(r"Chrome/|CriOS/|Chromium/")),
    ("Safari", re.compile(r"Safari/")),
)
_SYSTEMS = (
    ("Android", re.compile(r"Android")),
    ("iPhone", re.compile(r"iPhone")),
    ("iPad", re.compile(r"iPad")),
    ("Windows", re.compile(r"Windows")),
    ("macOS", re.compile(r"Mac OS X|Macintosh")),
    ("ChromeOS", re.compile(r"CrOS")),
    ("Linux", re.compile(r"Linux")),
)


def device_label(user_agent: str) -> str:
    """ "Firefox on Windows" from a browser's User-Agent; names only the common ones, never guesses."""
    browser = next((name for name, pattern in _BROWSERS if pattern.search(user_agent or "")), "")
    system = next((name for name, pattern in _SYSTEMS if pattern.search(user_agent or "")), "")
    if browser and system:
        return _("%(browser)s on %(system)s") % {"browser": browser, "system": system}
    return browser or system or _("Unknown browser")
