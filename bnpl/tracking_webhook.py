"""`POST /bnpl/webhooks/shippo/?token=<SHIPPO_WEBHOOK_TOKEN>`: Shippo's `track_updated` events.

Shippo authenticates a webhook in the ways its "Webhook security" page lists: a self-generated
token in the URL we register (`?token=…`, Shippo posts back to the URL as given), and HMAC, which
Shippo's team provisions on request: the `Shippo-Auth-Signature` header, `t=<unix seconds>,
v1=<hex HMAC-SHA256 of "<t>.<raw body>">`. The token is checked when SHIPPO_WEBHOOK_TOKEN is set,
the signature when SHIPPO_WEBHOOK_HMAC_SECRET is set (with SHIPPO_WEBHOOK_TOLERANCE_SECONDS of
clock skew either way), and with neither set every call is refused: 403, nothing stored.

Then: a body over 64 KB is 413, a body that is not a track_updated event with carrier, tracking
number, status and status date is 400, both storing nothing. Another event type (a webhook
shared with transaction events) is 200 and ignored. A status is stored once
(`bnpl.tracking.shipment_event_record`, deduplicated on carrier, number, status and status
date, since Shippo's events carry no id): a repeat is 200 and stores and signals nothing.
"""

import hashlib
import hmac
import json
import re
import time
from datetime import UTC

from django.conf import settings
from django.http import JsonResponse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from portal.core.errors import error_json_response

from .models import ShipmentEvent, TrackingState
from .tracking import location_text, shipment_event_record, status_from_shippo

MAX_BODY_BYTES = 64 * 1024
_CARRIER_RE = re.compile(r"^[a-z0-9_]{1,50}$")
_NUMBER_RE = re.compile(r"^[A-Za-z0-9_-]{1,100}$")


class _Malformed(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@csrf_exempt  # Shippo cannot send a CSRF token; the URL token (and the signature) authenticate it
@require_POST
def shippo_webhook(request):
    if not _token_valid(request):
        return _refused()
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not declared.isdigit() or int(declared) > MAX_BODY_BYTES:
        return _too_large()
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        return _too_large()
    if not _signature_valid(request.headers.get("Shippo-Auth-Signature", ""), body):
        return _refused()
    try:
        report = _parse(body)
    except _Malformed as exc:
        return error_json_response(
            code="invalid",
            message=_("This is not a Shippo track_updated event: %(reason)s") % {"reason": exc.message},
            status=400,
            details={exc.field: [exc.message]},
        )
    if report is None:
        return JsonResponse({"received": True, "stored": False})
    event = shipment_event_record(source=ShipmentEvent.Source.WEBHOOK, **report)
    return JsonResponse({"received": True, "stored": event is not None})


def _refused():
    return error_json_response(
        code="permission_denied", message=_("This webhook call could not be authenticated."), status=403
    )


def _too_large():
    return error_json_response(
        code="too_large",
        message=_("A webhook body has at most %(size)d KB.") % {"size": MAX_BODY_BYTES // 1024},
        status=413,
    )


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _token_valid(request) -> bool:
    expected = settings.SHIPPO_WEBHOOK_TOKEN
    if not expected and not settings.SHIPPO_WEBHOOK_HMAC_SECRET:
        return False  # nothing to check against: refuse everything rather than accept anything
    return not expected or _same(request.GET.get("token", ""), expected)


def _signature_valid(header: str, body: bytes) -> bool:
    secret = settings.SHIPPO_WEBHOOK_HMAC_SECRET
    if not secret:
        return True
    fields = dict(part.strip().partition("=")[::2] for part in header.split(",") if "=" in part)
    stamp, given = fields.get("t", ""), fields.get("v1", "")
    if not stamp.isdigit() or not given:
        return False
    if abs(time.time() - int(stamp)) > settings.SHIPPO_WEBHOOK_TOLERANCE_SECONDS:
        return False
    expected = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return _same(given.lower(), expected)


def _parse(body: bytes) -> dict | None:
    """The status report in the event, as shipment_event_record takes it; None when there is nothing to store."""
    try:
        payload = json.loads(body)
    except ValueError:
        raise _Malformed("body", _("the body is not JSON.")) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("event"), str) or not payload["event"]:
        raise _Malformed("event", _("the event type is missing."))
    if payload["event"] != "track_updated":
        return None
    data = payload.get("data")
    if not isinstance(data, dict):
        raise _Malformed("data", _("the Track object (data) is missing."))
    carrier, number, current = data.get("carrier"), data.get("tracking_number"), data.get("tracking_status")
    if not isinstance(carrier, str) or not _CARRIER_RE.match(carrier):
        raise _Malformed("data.carrier", _("the carrier token is missing or malformed."))
    if not isinstance(number, str) or not _NUMBER_RE.match(number):
        raise _Malformed("data.tracking_number", _("the tracking number is missing or malformed."))
    if not isinstance(current, dict):
        raise _Malformed("data.tracking_status", _("the tracking status is missing."))
    try:
        status = status_from_shippo(current.get("status"))
    except (KeyError, TypeError):
        raise _Malformed("data.tracking_status.status", _("the status is missing or unknown.")) from None
    raw_date = current.get("status_date")
    if raw_date is None and status == TrackingState.UNKNOWN:
        return None  # "no information yet" has no date and tells nothing new
    try:
        status_date = parse_datetime(raw_date) if isinstance(raw_date, str) else None
    except ValueError:  # well-formed but impossible, such as month 13
        status_date = None
    if status_date is None:
        raise _Malformed("data.tracking_status.status_date", _("the status date is missing or not a date."))
    if status_date.tzinfo is None:
        status_date = status_date.replace(tzinfo=UTC)  # Shippo gives its dates in UTC
    details = current.get("status_details")
    location = current.get("location")
    return {
        "carrier": carrier,
        "tracking_number": number,
        "status": status,
        "status_details": details if isinstance(details, str) else "",
        "status_date": status_date,
        "location": location_text(location) if isinstance(location, dict) else "",
        "payload": payload,
    }
