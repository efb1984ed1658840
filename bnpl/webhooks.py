"""Webhooks to merchants: queued in the caller's transaction, delivered through the outbox pattern.

    webhook_enqueue(merchant=order.merchant, event="order.shipped", payload={...}, order=order)

writes a `WebhookDelivery` row inside the caller's transaction and hands its id to a Celery task once
that transaction commits (`transaction.on_commit`). A worker claims the row with a conditional
UPDATE (pending/failed and due → sending), POSTs it, records a `WebhookAttempt` and moves the row on:
2xx → delivered; anything else (another status, a timeout, a refused connection) → failed with the
next attempt after BNPL_WEBHOOK_RETRY_BASE_SECONDS × 2^(attempts-1) (capped), or given_up once
`give_up_after` attempts were made. A periodic sweep (`webhook_sweep`, Celery beat) delivers rows
whose task was lost and takes back rows a crashed worker left in `sending` (delivery is at least
once: the receiver dedupes on `Partnerzone-Delivery`).

The request (docs/bnpl-webhooks.md): `POST <merchant.webhook_url>`, JSON body
`{"id", "event", "created_at", "data"}`, headers `Partnerzone-Event`, `Partnerzone-Delivery` (the id)
and `Partnerzone-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with the
merchant's webhook secret>`. Only http(s) URLs; unless BNPL_WEBHOOK_ALLOW_PRIVATE, an address that
resolves to loopback, private, link-local or otherwise non-public space is refused (SSRF guard) and
redirects are never followed. The name is resolved once per attempt: every address it gives is
checked, and the connection goes to those checked addresses (`PinnedAdapter`), never to a fresh
answer of the resolver, so a name that resolves public at the check and private at the connect (DNS
rebinding) reaches nothing private. The URL, the Host header, TLS SNI and the certificate check keep
the name.
"""

import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import time
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from portal.audit.services import audit_record
from portal.core.cache import redis_circuit

from .models import Merchant, WebhookAttempt, WebhookDelivery, WebhookEvent

logger = logging.getLogger(__name__)

State = WebhookDelivery.State
SIGNATURE_HEADER = "Partnerzone-Signature"
EVENT_HEADER = "Partnerzone-Event"
DELIVERY_HEADER = "Partnerzone-Delivery"
# A worker that has held a row this long died (the POST times out long before): the sweep takes it back.
STUCK_AFTER = timedelta(minutes=5)
SWEEP_BATCH = 100
SWEEP_SECONDS = 50
MAX_ERROR = 2000


# --- Signing ---------------------------------------------------------------------------------------


def signature_header(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    """`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, keyed with the merchant's secret."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def verify_signature(secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    """True if `header` signs `body` with `secret` and its time is within `tolerance` seconds of now.

    The same code merchants copy from docs/bnpl-webhooks.md: any `v1=` entry may match (there is one).
    """
    stamp, signatures = "", []
    for part in header.split(","):
        key, _sep, value = part.strip().partition("=")
        if key == "t":
            stamp = value
        elif key == "v1":
            signatures.append(value)
    if not stamp.isdigit() or not signatures:
        return False
    if abs(time.time() - int(stamp)) > tolerance:
        return False
    expected = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, given) for given in signatures)


def delivery_body(delivery: WebhookDelivery) -> bytes:
    """The JSON body of a delivery: the same bytes on every attempt."""
    document = {
        "id": delivery.pk,
        "event": delivery.event,
        "created_at": delivery.created_at.isoformat(),
        "data": delivery.payload,
    }
    return json.dumps(document, cls=DjangoJSONEncoder, separators=(",", ":"), sort_keys=True).encode()


# --- The SSRF guard ----------------------------------------------------------------------------------


class UrlRefused(Exception):
    """The URL may not be called: wrong scheme, no host, or an address that is not public."""


class UrlUnresolved(Exception):
    """The host name did not resolve (perhaps for a moment): the attempt failed, a later one may not."""


@dataclass(frozen=True)
class CheckedUrl:
    """A webhook URL resolved once: its host name and the addresses checked for it, in the resolver's order."""

    url: str
    host: str
    port: int
    addresses: tuple[str, ...]


def _url_parts(url: str):
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UrlRefused(_("Only http:// and https:// addresses with a host name can receive webhooks."))
    return parts


def url_resolve(url: str) -> CheckedUrl:
    """Resolve the URL's host once and check every address it gives; connect only to these.

    Refuses what must never be called: another scheme than http(s), no host, and (unless
    BNPL_WEBHOOK_ALLOW_PRIVATE) any address that is not public (loopback, private, link-local,
    reserved, multicast, unspecified). Raises UrlRefused with a translated reason, or UrlUnresolved.
    """
    parts = _url_parts(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (OSError, ValueError) as exc:
        raise UrlUnresolved(_("The host name could not be resolved: %(error)s") % {"error": exc}) from None
    addresses = []
    for info in infos:
        text = info[4][0].split("%")[0]
        address = ipaddress.ip_address(text)
        if not settings.BNPL_WEBHOOK_ALLOW_PRIVATE and not _public(address):
            raise UrlRefused(
                _("The address %(address)s is not a public internet address; webhooks are not sent there.")
                % {"address": address}
            )
        if text not in addresses:
            addresses.append(text)
    if not addresses:
        raise UrlUnresolved(_("The host name could not be resolved: %(error)s") % {"error": _("no address")})
    return CheckedUrl(url=url, host=parts.hostname, port=port, addresses=tuple(addresses))


def url_check(url: str) -> None:
    """Refuse what must never be called (see url_resolve), before a URL is saved; with
    BNPL_WEBHOOK_ALLOW_PRIVATE only the scheme and host are checked (the name need not resolve yet)."""
    _url_parts(url)
    if not settings.BNPL_WEBHOOK_ALLOW_PRIVATE:
        url_resolve(url)


def _public(address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_global and not (address.is_multicast or address.is_reserved or address.is_loopback)


def webhook_url_validate(url: str) -> str:
    """A merchant's new webhook URL, checked as deliveries check it; ValidationError otherwise ("" clears it)."""
    url = url.strip()
    if not url:
        return ""
    try:
        url_check(url)
    except (UrlRefused, UrlUnresolved) as exc:
        raise ValidationError({"webhook_url": str(exc)}) from None
    return url


# --- Queueing --------------------------------------------------------------------------------------


def webhook_enqueue(*, merchant: Merchant, event: str, payload: dict, order=None) -> WebhookDelivery | None:
    """Queue one event for the merchant's URL; not durable: call it inside the transaction that made the event.

    A merchant without a webhook URL gets no row (None). The row is delivered after commit, or by the sweep.
    """
    if event not in WebhookEvent.values:
        raise ValueError(f"Unknown webhook event {event!r}")
    if not merchant.webhook_url:
        return None
    delivery = WebhookDelivery.objects.create(
        merchant=merchant,
        event=event,
        order=order,
        payload=json.loads(json.dumps(payload, cls=DjangoJSONEncoder)),
        give_up_after=settings.BNPL_WEBHOOK_MAX_ATTEMPTS,
    )
    webhook_publish_after_commit([delivery.pk])
    return delivery


def webhook_publish_after_commit(delivery_ids: list[int]) -> None:
    if delivery_ids:
        ids = list(delivery_ids)
        transaction.on_commit(lambda: webhook_publish(ids))


def webhook_publish(delivery_ids: list[int]) -> int:
    """Hand the rows to the broker; a broker that is down is logged, never raised (the sweep has them)."""
    from .webhook_tasks import deliver_webhook

    redis = redis_circuit()
    if not deliver_webhook.app.conf.task_always_eager and not redis.allows():
        return 0
    published = 0
    for delivery_id in delivery_ids:
        try:
            deliver_webhook.delay(delivery_id)
        except Exception:  # any broker failure; the caller must go on
            redis.trip()
            logger.warning("Could not queue webhooks %s; the sweep will deliver them.", delivery_ids, exc_info=True)
            break
        published += 1
    return published


def webhook_resend(*, actor, delivery_id: int) -> WebhookDelivery:
    """ "Send again": a delivered or given-up (or failing) delivery is due now, with a fresh attempt budget."""
    with transaction.atomic(durable=True):
        delivery = (
            WebhookDelivery.objects.select_for_update()
            .restrict(actor, "operate")
            .select_related("merchant")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None:
            raise PermissionDenied
        if delivery.state in (State.PENDING, State.SENDING):
            raise ValidationError(_("This webhook is already waiting to be sent."))
        if not delivery.merchant.webhook_url:
            raise ValidationError(_("Set a webhook URL first."))
        previous = delivery.state
        delivery.state = State.PENDING
        delivery.next_attempt_at = timezone.now()
        delivery.give_up_after = delivery.attempts + settings.BNPL_WEBHOOK_MAX_ATTEMPTS
        delivery.save(update_fields=["state", "next_attempt_at", "give_up_after"])
        audit_record(
            action="bnpl.webhook_resent",
            actor=actor,
            obj=delivery,
            changes={"state": [previous, State.PENDING], "event": delivery.event},
        )
        webhook_publish_after_commit([delivery.pk])
    return delivery


def webhook_url_set(*, actor, merchant_id: int, webhook_url: str) -> Merchant:
    """The merchant's people change where its webhooks go (validated like a delivery; audited)."""
    url = webhook_url_validate(webhook_url)
    with transaction.atomic(durable=True):
        merchant = Merchant.objects.select_for_update().restrict(actor).filter(pk=merchant_id).first()
        if merchant is None:
            raise PermissionDenied
        old = merchant.webhook_url
        if old != url:
            merchant.webhook_url = url
            merchant.save(update_fields=["webhook_url"])
            audit_record(
                action="bnpl.webhook_url_changed", actor=actor, obj=merchant, changes={"webhook_url": [old, url]}
            )
    return merchant


# --- Delivering ------------------------------------------------------------------------------------


def retry_delay(attempts: int) -> timedelta:
    """base, 2×base, 4×base … seconds after the `attempts`-th failure, capped."""
    base = settings.BNPL_WEBHOOK_RETRY_BASE_SECONDS
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), settings.BNPL_WEBHOOK_RETRY_MAX_SECONDS))


def webhook_deliver(*, delivery_id: int) -> str | None:
    """Make one attempt at a due delivery. Returns its new state, or None if it was not ours to send."""
    claimed_at = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, state__in=[State.PENDING, State.FAILED], next_attempt_at__lte=claimed_at
    ).update(state=State.SENDING, claimed_at=claimed_at, attempts=F("attempts") + 1)
    if not claimed:
        return None  # delivered, given up, not due yet, or another worker has it
    ours = WebhookDelivery.objects.filter(pk=delivery_id, state=State.SENDING, claimed_at=claimed_at)
    delivery = WebhookDelivery.objects.select_related("merchant").get(pk=delivery_id)
    url = delivery.merchant.webhook_url
    started = time.monotonic()
    status_code, error, refused = None, "", False
    try:
        if not url:
            raise UrlRefused(_("The merchant has no webhook URL."))
        status_code = _post(delivery, url_resolve(url))
    except UrlRefused as exc:
        error, refused = str(exc), True
    except UrlUnresolved as exc:
        error = str(exc)
    except requests.Timeout:
        error = _("No answer within %(seconds)s seconds.") % {"seconds": settings.BNPL_WEBHOOK_TIMEOUT_SECONDS}
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"
    duration_ms = int((time.monotonic() - started) * 1000)
    if status_code is not None and not 200 <= status_code < 300:
        error = _("The receiver answered HTTP %(status)s.") % {"status": status_code}
    return _record(ours, delivery, url, status_code, error[:MAX_ERROR], duration_ms, refused=refused)


# --- Connecting to the checked addresses only ---------------------------------------------------------


def _connect(address: str, port: int, timeout, source_address, socket_options) -> socket.socket:
    """The TCP connection to one checked address, with no name lookup at all (a seam: tests see where
    a delivery connects)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        for option in socket_options or ():
            sock.setsockopt(*option)
        if timeout is None or isinstance(timeout, int | float):  # else urllib3's "default" sentinel
            sock.settimeout(timeout)
        if source_address:
            sock.bind(source_address)
        sock.connect((address, port))
    except BaseException:
        sock.close()
        raise
    return sock


class _PinnedConnectionMixin:
    """A urllib3 connection whose socket goes to the checked addresses, not to a new answer of the resolver.

    `host` stays the URL's name, so the Host header, TLS SNI and the certificate check use the name.
    """

    checked: CheckedUrl

    def _new_conn(self):
        if self.host != self.checked.host.rstrip("."):  # never another host than the one checked
            raise NewConnectionError(self, f"Refused to connect to {self.host}: not the checked host")
        error = None
        for address in self.checked.addresses:  # in the resolver's order, as create_connection would
            try:
                return _connect(address, self.port, self.timeout, self.source_address, self.socket_options)
            except TimeoutError as exc:
                error = ConnectTimeoutError(self, f"Connection to {self.host} ({address}) timed out.")
                error.__cause__ = exc
            except OSError as exc:
                error = NewConnectionError(self, f"Failed to establish a new connection to {address}: {exc}")
        raise error


class PinnedAdapter(HTTPAdapter):
    """A requests adapter that connects only to the addresses `url_resolve` checked for this URL."""

    def __init__(self, checked: CheckedUrl, **kwargs):
        self.checked = checked
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        pinned = {"checked": self.checked}
        http = type("PinnedHTTPConnection", (_PinnedConnectionMixin, HTTPConnection), pinned)
        https = type("PinnedHTTPSConnection", (_PinnedConnectionMixin, HTTPSConnection), pinned)
        self.poolmanager.pool_classes_by_scheme = {
            "http": type("PinnedHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": http}),
            "https": type("PinnedHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": https}),
        }


def _post(delivery: WebhookDelivery, checked: CheckedUrl) -> int:
    body = delivery_body(delivery)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Partnerzone-Webhooks/1",
        EVENT_HEADER: delivery.event,
        DELIVERY_HEADER: str(delivery.pk),
        SIGNATURE_HEADER: signature_header(delivery.merchant.webhook_secret(), body),
    }
    timeout = settings.BNPL_WEBHOOK_TIMEOUT_SECONDS
    with requests.Session() as session:
        session.trust_env = False  # no proxy from the environment between us and the merchant
        adapter = PinnedAdapter(checked)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        response = session.post(
            checked.url, data=body, headers=headers, timeout=timeout, allow_redirects=False, stream=True
        )
        response.close()  # the answer's body is of no interest; do not read an endless one
    return response.status_code


def _record(ours, delivery, url, status_code, error, duration_ms, *, refused: bool) -> str | None:
    now = timezone.now()
    with transaction.atomic():
        if status_code is not None and 200 <= status_code < 300:
            fields = {"state": State.DELIVERED, "delivered_at": now, "last_error": ""}
        elif delivery.attempts >= delivery.give_up_after or refused:
            fields = {"state": State.GIVEN_UP, "last_error": error}
        else:
            fields = {
                "state": State.FAILED,
                "next_attempt_at": now + retry_delay(delivery.attempts),
                "last_error": error,
            }
        if not ours.update(claimed_at=None, last_status_code=status_code, **fields):
            return None  # the sweep took the row back meanwhile: its next attempt is the record
        WebhookAttempt.objects.create(
            delivery=delivery, at=now, url=url[:500], status_code=status_code, error=error, duration_ms=duration_ms
        )
    logger.info("Webhook %s (%s) attempt %s: %s", delivery.pk, delivery.event, delivery.attempts, fields["state"])
    return fields["state"]


def webhook_recover_stuck(*, now=None) -> int:
    """Rows a crashed worker left in `sending`: due again now (the receiver may get that attempt twice)."""
    now = now or timezone.now()
    return WebhookDelivery.objects.filter(state=State.SENDING, claimed_at__lt=now - STUCK_AFTER).update(
        state=State.FAILED, claimed_at=None, next_attempt_at=now, last_error="Worker stopped during the attempt."
    )


def webhook_sweep() -> dict[str, int]:
    """Take back stuck rows, then make the due attempts (a batch per run, stopping before the next run)."""
    recovered = webhook_recover_stuck()
    due = list(
        WebhookDelivery.objects.filter(state__in=[State.PENDING, State.FAILED], next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:SWEEP_BATCH]
    )
    results = {"recovered": recovered, State.DELIVERED: 0, State.FAILED: 0, State.GIVEN_UP: 0}
    deadline = time.monotonic() + SWEEP_SECONDS
    for delivery_id in due:
        if time.monotonic() > deadline:
            break
        state = webhook_deliver(delivery_id=delivery_id)
        if state in results:
            results[state] += 1
    return {str(key): value for key, value in results.items()}


# --- Events that become webhooks ---------------------------------------------------------------------


def on_shipment_status_changed(sender, carrier, tracking_number, status, status_date, **kwargs) -> None:
    """`bnpl.events.shipment_status_changed` receiver: the shop hears of its parcel (`order.tracking_updated`).

    Runs inside the transaction that stored the carrier's event, so the webhook exists exactly when it does.
    """
    from .models import Order

    orders = Order.objects.filter(carrier=carrier, tracking_number=tracking_number).select_related("merchant")
    for order in orders:
        webhook_enqueue(
            merchant=order.merchant,
            event=WebhookEvent.ORDER_TRACKING_UPDATED,
            order=order,
            payload={
                "order_id": order.pk,
                "reference": order.reference,
                "carrier": carrier,
                "tracking_number": tracking_number,
                "status": str(status),
                "status_date": status_date,
            },
        )


def order_webhook(order, event: str, *, extra: dict | None = None) -> WebhookDelivery | None:
    """Tell the shop an order changed (`order.approved`, `…captured`, `…shipped`, …); inside the transaction
    that changed it, so the webhook exists exactly when the change does. `extra` adds fields to the data
    (the decision of `order.dispute_decided`)."""
    return webhook_enqueue(
        merchant=order.merchant,
        event=event,
        order=order,
        payload=(extra or {})
        | {
            "order_id": order.pk,
            "reference": order.reference,
            "state": order.state,
            "amount": str(order.amount),
            "refunded_amount": str(order.refunded_amount),
            "currency": order.currency,
            "carrier": order.carrier,
            "tracking_number": order.tracking_number,
        },
    )
