"""`Idempotency-Key` on every POST (and PATCH) of the API: a repeat gets the first answer and changes nothing.

A client that sends a POST with `Idempotency-Key: <1 to 255 printable ASCII characters>` may send
it again — after a timeout, a dropped connection, a crash on its side — and gets the first answer
back, marked `Idempotent-Replayed: true`, without the request running a second time.

The rules:

- A key belongs to its caller: the API key that sent it, or the session user when there is none.
  The same text from another caller is another key.
- The record keeps a fingerprint: a SHA-256 of method, path, query and the parsed body (parsed, so
  that a multipart retry with a new boundary, or JSON with its keys in another order, is still the
  same request). The same key with another fingerprint answers 409 `idempotency_key_reused`.
- Of parallel requests with one key exactly one runs: the claim is an INSERT against a unique
  constraint, committed before the view's handler starts. The others wait up to
  PORTAL_IDEMPOTENCY_WAIT_SECONDS for its answer and replay it, or answer 409
  `idempotency_in_progress` with Retry-After. Never a second run.
- Answers 2xx, 3xx and 5xx are kept and repeated. A server error is kept too: it may have come after
  the work was committed (a lost database connection, a failing receiver), and running the request
  again could then do it twice. The client looks at what happened and uses a new key.
- Answers 4xx are not kept (the record is deleted): by the API's rules a refused request changes
  nothing, so running it again is safe, and a refusal that depended on the moment ("too many reports
  in progress") does not stick to the key for a day.
- A record still running after PORTAL_IDEMPOTENCY_STALE_SECONDS belongs to a run that died with its
  worker: whether it took effect is unknown, so a repeat answers 409 `idempotency_outcome_unknown`
  rather than running again.
- Records expire after PORTAL_IDEMPOTENCY_TTL seconds (24 h); `portal.api.tasks.api_sweep` deletes them.

How it hooks in:

- `IdempotencyGate` is one of DRF's DEFAULT_THROTTLE_CLASSES. DRF runs throttles on every view that
  does not replace `throttle_classes` (a test walks the URL conf so that no POST route does), after
  authentication and the permission checks: the gate knows the caller, and a request that is refused
  those never touches a record. For a POST with the header it stands in for the view's handler, which
  DRF looks up only once every throttle has passed: the stand-in checks the key, claims it and calls
  the real handler, or answers from the record without calling it.
- `IdempotencyMiddleware` sees the final answer (after DRF's error handling, and Django's 500 page)
  and stores it. If the database connection was lost after the view's commit, it reconnects once, so
  that the record gets the answer the client got.
"""

import functools
import hashlib
import json
import logging
import re
import time
from datetime import timedelta

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.throttling import BaseThrottle

from .models import ApiKey, IdempotencyRecord

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# The headers of an answer that a repeat must carry too; the rest (dates, request ids, security
# headers) the middleware stack adds to every answer anyway.
KEPT_HEADERS = ("Location", "Retry-After")
# PATCH too: a changed order (BNPL re-pricing) sent twice after a timeout must change it once.
METHODS = frozenset({"POST", "PATCH"})
POLL_SECONDS = 0.1

_META_KEY = "HTTP_IDEMPOTENCY_KEY"
_KEY_RE = re.compile(r"[\x20-\x7e]{1,255}")
# Set on Django's request by the stand-in when it claimed a key; read by the middleware.
_CLAIM_ATTR = "_idempotency_record_id"

State = IdempotencyRecord.State


def error_response(code: str, message: str, http_status: int = status.HTTP_400_BAD_REQUEST):
    # Imported here: errors imports DRF's views, whose APIView reads DEFAULT_THROTTLE_CLASSES, which
    # names this module, so a module-level import would be circular.
    from .errors import error_response

    return error_response(code, message, http_status)


def key_is_valid(value: str) -> bool:
    return bool(_KEY_RE.fullmatch(value))


class IdempotencyGate(BaseThrottle):
    """Puts the idempotent stand-in in front of the POST handler; never throttles anything itself."""

    def allow_request(self, request, view):
        if request.method not in METHODS or _META_KEY not in request.META:
            return True
        name = request.method.lower()
        handler = getattr(view, name, None)
        if handler is None or getattr(handler, "idempotent_stand_in", False):
            return True
        stand_in = functools.partial(_handle_once, handler)
        stand_in.idempotent_stand_in = True
        setattr(view, name, stand_in)
        return True


def _handle_once(handler, request, *args, **kwargs):
    raw = request.META[_META_KEY]
    if not key_is_valid(raw):
        return error_response(
            "idempotency_key_invalid",
            _("The Idempotency-Key header must be 1 to 255 printable ASCII characters."),
        )
    if not request.user.is_authenticated:
        # Nobody to scope the key to; no POST of the API is open to anonymous callers.
        return handler(request, *args, **kwargs)
    caller = _caller(request)
    fingerprint = request_fingerprint(request)
    deadline = time.monotonic() + settings.PORTAL_IDEMPOTENCY_WAIT_SECONDS
    while True:
        record, claimed = _claim(caller=caller, key=raw, fingerprint=fingerprint, request=request)
        if claimed:
            setattr(request._request, _CLAIM_ATTR, record.pk)
            return handler(request, *args, **kwargs)
        if record is not None:
            if record.fingerprint != fingerprint:
                return error_response(
                    "idempotency_key_reused",
                    _(
                        "This Idempotency-Key was already used for a different request. Use a new key for a new request."
                    ),
                    status.HTTP_409_CONFLICT,
                )
            if record.state == State.DONE:
                return _replay(record)
            if record.created_at <= timezone.now() - timedelta(seconds=settings.PORTAL_IDEMPOTENCY_STALE_SECONDS):
                return error_response(
                    "idempotency_outcome_unknown",
                    _(
                        "The request with this Idempotency-Key did not finish, and whether it took effect is "
                        "unknown. Check before you send it again with a new key."
                    ),
                    status.HTTP_409_CONFLICT,
                )
        if time.monotonic() >= deadline:
            response = error_response(
                "idempotency_in_progress",
                _("A request with this Idempotency-Key is still being processed. Ask again for its answer shortly."),
                status.HTTP_409_CONFLICT,
            )
            response["Retry-After"] = "1"
            return response
        if record is not None:
            time.sleep(POLL_SECONDS)


def _caller(request) -> dict:
    if isinstance(request.auth, ApiKey):
        return {"user": request.user, "api_key": request.auth}
    return {"user": request.user, "api_key": None}


def request_fingerprint(request) -> str:
    """SHA-256 of method, path, query and parsed body (files by name, size and SHA-256)."""
    data = request.data
    body = {name: list(values) for name, values in data.lists()} if hasattr(data, "lists") else data
    document = {
        "method": request.method,
        "path": request.path,
        "query": sorted(request.query_params.lists()),
        "body": body,
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default)
    return hashlib.sha256(text.encode()).hexdigest()


def _json_default(value):
    if isinstance(value, UploadedFile):
        digest = hashlib.sha256()
        for chunk in value.chunks():
            digest.update(chunk)
        value.seek(0)
        return {"file": value.name, "size": value.size, "sha256": digest.hexdigest()}
    return str(value)


def _claim(*, caller: dict, key: str, fingerprint: str, request) -> tuple[IdempotencyRecord | None, bool]:
    """(record, True) if this request now owns the key; else (the record that holds it, False)."""
    now = timezone.now()
    record = IdempotencyRecord.objects.filter(**caller, key=key).first()
    if record is not None and record.expires_at > now:
        return record, False
    if record is not None:
        # Expired but not swept yet: it no longer binds the key.
        IdempotencyRecord.objects.filter(pk=record.pk, expires_at__lte=now).delete()
    try:
        # Committed at once (requests run in autocommit), so parallel requests see the claim.
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                **caller,
                key=key,
                fingerprint=fingerprint,
                method=request.method,
                path=request.path[:2000],
                created_at=now,
                expires_at=now + timedelta(seconds=settings.PORTAL_IDEMPOTENCY_TTL),
            )
    except IntegrityError:
        return IdempotencyRecord.objects.filter(**caller, key=key).first(), False
    return record, True


def _replay(record: IdempotencyRecord) -> HttpResponse:
    if record.body is None:
        return error_response(
            "idempotency_answer_unavailable",
            _("The request with this Idempotency-Key was carried out, but its answer cannot be repeated."),
            status.HTTP_409_CONFLICT,
        )
    response = HttpResponse(bytes(record.body), status=record.status_code, content_type=record.content_type or None)
    for name, value in record.headers.items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


class IdempotencyMiddleware:
    """Stores the answer of a request that claimed an idempotency key (see the module docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        record_id = getattr(request, _CLAIM_ATTR, None)
        if record_id is not None:
            idempotency_record_answer(record_id=record_id, response=response)
        return response


def idempotency_record_answer(*, record_id: int, response) -> None:
    """Keep the answer in the record (or release the key after a 4xx); never raises."""
    code = response.status_code
    rows = IdempotencyRecord.objects.filter(pk=record_id, state=State.RUNNING)
    if 400 <= code < 500:

        def write():
            rows.delete()

    else:
        fields = {
            "state": State.DONE,
            "status_code": code,
            "content_type": response.get("Content-Type", "")[:200],
            "body": None if response.streaming else response.content,
            "headers": {name: response[name] for name in KEPT_HEADERS if response.has_header(name)},
            "completed_at": timezone.now(),
        }

        def write():
            rows.update(**fields)

    try:
        write()
        return
    except DatabaseError:
        if connection.in_atomic_block:
            logger.exception("Answer of idempotency record %s not stored", record_id)
            return
        # Most likely the connection died after the view's commit; the answer the client gets was
        # built from the transaction's result, and the record must get the same one.
        logger.warning("Storing idempotency record %s failed; reconnecting once", record_id, exc_info=True)
    connection.close()
    try:
        write()
    except DatabaseError:
        # A repeat answers 409 "in progress", then "outcome unknown": never a second run.
        logger.exception("Answer of idempotency record %s not stored", record_id)


def idempotency_records_expire(*, now=None, batch: int = 1000) -> int:
    """Delete expired records; returns how many went."""
    now = now or timezone.now()
    deleted = 0
    while True:
        ids = list(IdempotencyRecord.objects.filter(expires_at__lte=now).values_list("pk", flat=True)[:batch])
        if not ids:
            return deleted
        deleted += IdempotencyRecord.objects.filter(pk__in=ids).delete()[0]
