"""Instant shopping's callback: the merchant's server confirms or declines an order before it is placed.

    confirmation = merchant_confirm(session=session)
    if confirmation.confirmed: …place the order… else: …tell the shopper `confirmation.reason`…

**The contract for whoever places orders (`checkout_place`).** For a session that came from a buy
button (`session.button_id`), the order may be created only after `merchant_confirm` answered
`confirmed=True`, and this way round, so an order is never half-placed:

1. Outside any database transaction (it makes a network call of up to BNPL_CONFIRM_TIMEOUT_SECONDS;
   holding a row lock or a transaction open that long would stall the database): check the session
   is open and the shopper's, then call `merchant_confirm(session=session)`. Inside a transaction it
   raises RuntimeError instead of calling.
2. Declined (an explicit decline, no answer in time, a refused connection, an error status, an answer
   that is not `{"decision": "confirm"}`): create nothing, show the shopper `reason`, stop.
3. Confirmed: in one transaction, lock the session (`select_for_update`), check again that it is still
   open (another tab may have placed it meanwhile), then create the order (with
   `merchant_order_id` where the order keeps it) and mark the session used.

A session that did not come from a button was opened by the merchant's server itself: it is confirmed
without a call (and nothing is recorded), so `checkout_place` may call `merchant_confirm` for every session.

**The request** (docs/bnpl-instant.md): `POST <merchant.confirmation_url>`, JSON body
`{"type": "order.confirmation_request", "created_at", "session": {id, reference, amount, currency,
created_at, expires_at, button: {key, name}, order_lines: [...]}, "shopper": {name, email, phone,
shipping_address: {...}}}`, signed exactly as webhooks are (`Partnerzone-Signature: t=…,v1=…`,
HMAC-SHA256 of "<t>.<body>" with the merchant's webhook secret, `bnpl.webhooks.signature_header`).
Only a 2xx answer whose JSON body has `"decision": "confirm"` confirms (it may add
`"merchant_order_id"`); `{"decision": "decline", "reason": "…"}` declines with that reason.

A merchant without a confirmation URL has its instant purchases confirmed by default (recorded as
such): the demo shops have no server to answer. Every call is recorded as a `MerchantConfirmation`
(the merchant's dashboard lists them) with an audit event.
"""

import contextlib
import json
import logging
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.audit.services import audit_record

from .models import MerchantConfirmation, PaymentSession
from .webhooks import EVENT_HEADER, SIGNATURE_HEADER, UrlRefused, UrlUnresolved, signature_header, url_check

logger = logging.getLogger(__name__)

Outcome = MerchantConfirmation.Outcome
CONFIRMATION_EVENT = "order.confirmation_request"
SESSION_HEADER = "Partnerzone-Session"
# A decision is a few bytes of JSON; anything much longer is not one, and is not read to its end.
MAX_ANSWER_BYTES = 16 * 1024
MAX_REASON = 300


@dataclass(frozen=True)
class Confirmation:
    confirmed: bool
    reason: str
    merchant_order_id: str = ""


# --- The merchant's setting ---------------------------------------------------------------------------


def confirmation_url_validate(url: str) -> str:
    """A merchant's new confirmation URL: https (plain http only where private addresses are allowed, as
    for webhooks: tests and the demo), a public address; "" clears it. ValidationError otherwise."""
    url = url.strip()
    if not url:
        return ""
    if len(url) > 500:
        raise ValidationError({"confirmation_url": _("Keep the address to 500 characters.")})
    if urlsplit(url).scheme != "https" and not settings.BNPL_WEBHOOK_ALLOW_PRIVATE:
        raise ValidationError({"confirmation_url": _("Use an https:// address: it receives your shoppers' details.")})
    try:
        url_check(url)
    except (UrlRefused, UrlUnresolved) as exc:
        raise ValidationError({"confirmation_url": str(exc)}) from None
    return url


# --- What is sent ----------------------------------------------------------------------------------------


def shipping_details(user) -> dict:
    """The shopper's stored details the shop needs to deliver: name and contact from the login, the
    address from their client record where they have one, the region from their shopper profile."""
    address = {"street": "", "postcode": "", "city": "", "country": "", "region": ""}
    try:
        client = user.client_profile
    except ObjectDoesNotExist:
        client = None
    if client is not None:
        address.update(street=client.street, postcode=client.postcode, city=client.city, country=client.country)
    # No shopper profile yet (the checkout makes one): no region.
    with contextlib.suppress(ObjectDoesNotExist):
        address["region"] = user.bnpl_shopper.region
    name = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return {
        "name": name or user.email,
        "email": user.email,
        "phone": user.phone,
        "shipping_address": {"name": name or user.email, **address},
    }


def confirmation_body(session: PaymentSession, *, now=None) -> bytes:
    """The JSON the merchant's server is asked with (compact, keys sorted: the bytes that are signed)."""
    button = session.button
    document = {
        "type": CONFIRMATION_EVENT,
        "created_at": (now or timezone.now()).isoformat(),
        "session": {
            "id": session.pk,
            "reference": session.reference,
            "amount": str(session.amount),
            "currency": session.currency,
            "created_at": session.created_at.isoformat(),
            "expires_at": session.expires_at.isoformat(),
            "button": {"key": button.key, "name": button.name} if button else None,
            "order_lines": [
                {
                    "position": line.position,
                    "name": line.name,
                    "quantity": line.quantity,
                    "unit_price": str(line.unit_price),
                    "tax_rate": str(line.tax_rate),
                    "line_total": str(line.line_total),
                }
                for line in session.lines.all()
            ],
        },
        "shopper": shipping_details(session.created_by) if session.created_by else {"email": session.shopper_email},
    }
    return json.dumps(document, cls=DjangoJSONEncoder, separators=(",", ":"), sort_keys=True).encode()


# --- Asking ------------------------------------------------------------------------------------------------


def merchant_confirm(*, session: PaymentSession) -> Confirmation:
    """Ask the session's merchant whether this instant purchase may become an order (see the module's contract).

    Never raises for anything the merchant's server does; raises RuntimeError if called inside a transaction.
    """
    # An empty durable block raises if the caller holds a transaction open: the call below must not run there.
    with transaction.atomic(durable=True):
        pass
    if not session.button_id:
        return Confirmation(True, _("Opened by the shop's own server; nothing to confirm."))
    session = (
        PaymentSession.objects.select_related(
            "merchant", "button", "created_by__client_profile", "created_by__bnpl_shopper"
        )
        .prefetch_related("lines")
        .get(pk=session.pk)
    )
    if not session.is_open():
        return Confirmation(False, _("This purchase is no longer open."))
    merchant = session.merchant
    url = merchant.confirmation_url
    if not url:
        return _record(session, url, Outcome.CONFIRMED_BY_DEFAULT, _("The shop has no confirmation URL: confirmed."))
    started = time.monotonic()
    try:
        url_check(url)
        status_code, answer = _post(session, url)
    except UrlRefused as exc:
        return _record(session, url, Outcome.REFUSED, str(exc), started=started)
    except UrlUnresolved as exc:
        return _record(session, url, Outcome.UNREACHABLE, str(exc), started=started)
    except requests.Timeout:
        reason = _("The shop did not answer within %(seconds)s seconds.") % {
            "seconds": settings.BNPL_CONFIRM_TIMEOUT_SECONDS
        }
        return _record(session, url, Outcome.TIMEOUT, reason, started=started)
    except requests.RequestException as exc:
        reason = _("The shop's server could not be reached (%(error)s).") % {"error": type(exc).__name__}
        return _record(session, url, Outcome.UNREACHABLE, reason, started=started)
    return _decide(session, url, status_code, answer, started)


def _post(session: PaymentSession, url: str) -> tuple[int, bytes]:
    body = confirmation_body(session)
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "User-Agent": "Partnerzone-Confirmations/1",
        EVENT_HEADER: CONFIRMATION_EVENT,
        SESSION_HEADER: str(session.pk),
        SIGNATURE_HEADER: signature_header(session.merchant.webhook_secret(), body),
    }
    timeout = settings.BNPL_CONFIRM_TIMEOUT_SECONDS
    deadline = time.monotonic() + timeout
    with requests.Session() as http:
        http.trust_env = False  # no proxy from the environment between us and the merchant
        response = http.post(url, data=body, headers=headers, timeout=timeout, allow_redirects=False, stream=True)
        try:
            answer = b""
            # A server that drips its answer gets no more time than one that says nothing.
            for chunk in response.iter_content(4096):
                answer += chunk
                if time.monotonic() > deadline:
                    raise requests.Timeout
                if len(answer) > MAX_ANSWER_BYTES:
                    break
        finally:
            response.close()
    return response.status_code, answer


def _decide(session, url, status_code: int, answer: bytes, started: float) -> Confirmation:
    if not 200 <= status_code < 300:
        reason = _("The shop's server answered HTTP %(status)s.") % {"status": status_code}
        return _record(session, url, Outcome.SERVER_ERROR, reason, status_code=status_code, started=started)
    try:
        document = json.loads(answer.decode()) if len(answer) <= MAX_ANSWER_BYTES else None
    except (UnicodeDecodeError, ValueError):
        document = None
    decision = document.get("decision") if isinstance(document, dict) else None
    if decision == "confirm":
        order_id = document.get("merchant_order_id", "")
        order_id = str(order_id)[:100] if isinstance(order_id, str | int) and not isinstance(order_id, bool) else ""
        return _record(
            session,
            url,
            Outcome.CONFIRMED,
            _("Confirmed by the shop."),
            status_code=status_code,
            started=started,
            merchant_order_id=order_id,
        )
    if decision == "decline":
        given = document.get("reason")
        given = given.strip()[:MAX_REASON] if isinstance(given, str) else ""
        reason = _("The shop declined the order: %(reason)s") % {"reason": given} if given else ""
        reason = reason or _("The shop declined the order.")
        return _record(session, url, Outcome.DECLINED, reason, status_code=status_code, started=started)
    reason = _('The shop\'s answer was not {"decision": "confirm"} or {"decision": "decline"}.')
    return _record(session, url, Outcome.BAD_ANSWER, reason, status_code=status_code, started=started)


def _record(
    session, url, outcome, reason, *, status_code=None, started=None, merchant_order_id: str = ""
) -> Confirmation:
    duration_ms = int((time.monotonic() - started) * 1000) if started is not None else 0
    confirmed = outcome in (Outcome.CONFIRMED, Outcome.CONFIRMED_BY_DEFAULT)
    with transaction.atomic(durable=True):
        record = MerchantConfirmation.objects.create(
            merchant=session.merchant,
            session=session,
            url=url[:500],
            outcome=outcome,
            status_code=status_code,
            reason=reason[:500],
            merchant_order_id=merchant_order_id,
            duration_ms=duration_ms,
        )
        audit_record(
            action="bnpl.instant_confirmed" if confirmed else "bnpl.instant_declined",
            obj=session,
            actor_label=session.merchant.trading_name,
            changes={
                "outcome": outcome,
                "status_code": status_code,
                "reason": reason,
                "merchant_order_id": merchant_order_id,
                "confirmation": record.pk,
            },
        )
    logger.info("Instant purchase %s (session %s): %s", session.reference, session.pk, outcome)
    return Confirmation(confirmed, reason, merchant_order_id)
