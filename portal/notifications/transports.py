"""How an outbox message leaves the building: dev (stays in the database), SMTP, Twilio.

A transport gets the row and its texts with the secret part filled in, and returns the
provider's message id or raises one of three errors, and the difference matters:
`NotDelivered` means the provider certainly did not take the message (safe to try again
later), `Rejected` means it never will (do not retry), and `OutcomeUnknown` means the request
may have reached the provider (never resend blindly; `reconcile` asks the provider later).
"""

import logging
import smtplib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr

import requests
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.utils import timezone
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import ConnectTimeoutError

from .models import DevDelivery, OutboxMessage
from .sealed import secret_open, text_fill, text_mask

TWILIO_API = "https://api.twilio.com"

# The twilio client logs every request's headers at INFO; keep that out of the logs unless asked for.
_twilio_http_log = logging.getLogger("portal.notifications.twilio_http")
if _twilio_http_log.level == logging.NOTSET:
    _twilio_http_log.setLevel(logging.WARNING)


class DeliveryError(Exception):
    """The provider refused or could not be reached; the subclass says whether to retry."""


class NotDelivered(DeliveryError):
    """The provider did not accept the message; trying again later is safe."""


class Rejected(DeliveryError):
    """The provider refused the message for good (bad number, bad address, bad credentials)."""


class OutcomeUnknown(DeliveryError):
    """The request may have reached the provider; resending could deliver twice."""


def transport_for(channel: str):
    """The transport configured now (settings are read at call time, so tests can switch)."""
    if channel == OutboxMessage.Channel.EMAIL:
        name = settings.PORTAL_EMAIL_TRANSPORT
        choices = {"dev": dev_send, "smtp": smtp_send}
    else:
        name = settings.PORTAL_SMS_TRANSPORT
        choices = {"dev": dev_send, "twilio": twilio_send}
    try:
        return choices[name]
    except KeyError:
        raise NotDelivered(f"No transport {name!r} for {channel}.") from None


class ProviderQueryFailed(Exception):
    """The provider could not say what it holds (bad credentials, an answer we cannot read)."""


class ProviderUnreachable(ProviderQueryFailed, ConnectionError):
    """The provider did not answer, or answered "try later" (429, 5xx): ask again later.

    A ConnectionError, so tasks retry it like any other transient error (portal.core.task_retry).
    """


def dev_send(message: OutboxMessage, *, body: str, html_body: str = "", attachments=()) -> str:
    """Nothing leaves the machine: the message is kept as "delivered" for the dev outbox page.

    Its attachments were made (so a renderer that fails shows here as in production); the dev
    outbox page makes them again for whoever downloads them.

    The row is locked so that an owner destroying the secret at this moment either runs first
    (the copy is stored masked) or after (and masks the copy).
    """
    with transaction.atomic():
        row = OutboxMessage.objects.select_for_update().filter(pk=message.pk).values("secret", "secret_wiped_at")
        current = row.first()
        if current is not None and not current["secret"] and current["secret_wiped_at"] is not None:
            body, html_body = text_mask(message.body), text_mask(message.html_body)
        DevDelivery.objects.update_or_create(
            message_id=message.pk, defaults={"body": body, "html_body": html_body, "delivered_at": timezone.now()}
        )
    return f"dev-{message.pk}"


def message_texts(message: OutboxMessage) -> tuple[str, str]:
    """The text and HTML text as the recipient gets them: the secret part filled in.

    Raises `sealed.SecretUnreadable` when the key that sealed it is gone.
    """
    if not message.secret:
        return message.body, message.html_body
    secret = secret_open(message.secret)
    return text_fill(message.body, secret), text_fill(message.html_body, secret, html=True)


def smtp_send(message: OutboxMessage, *, body: str, html_body: str = "", attachments=()) -> str:
    """Send by SMTP; `attachments` are (file name, content, content type) triples."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "partnerzone.invalid"
    # A Message-ID fixed per outbox row lets mail clients fold a duplicate into one.
    message_id = f"<outbox-{message.pk}@{domain}>"
    # The SMTP backend by name: the test runner swaps the default backend for an in-memory one.
    connection = get_connection(
        "django.core.mail.backends.smtp.EmailBackend", fail_silently=False, timeout=settings.EMAIL_TIMEOUT
    )
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.recipient],
        headers={"Message-ID": message_id},
        connection=connection,
    )
    if html_body:
        email.attach_alternative(html_body, "text/html")
    for filename, content, content_type in attachments:
        email.attach(filename, content, content_type)
    try:
        connection.open()
    except OSError as exc:  # refused, timed out, TLS or login failure: nothing was handed over
        raise NotDelivered(f"SMTP connection failed: {exc!r}") from exc
    try:
        connection.send_messages([email])
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        if all(400 <= code < 500 for code in codes):
            raise NotDelivered(f"Recipient temporarily refused: {exc.recipients!r}") from exc
        raise Rejected(f"Recipient refused: {exc.recipients!r}") from exc
    except smtplib.SMTPResponseException as exc:  # the server answered no, so it did not take it
        if 400 <= exc.smtp_code < 500:
            raise NotDelivered(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}") from exc
        raise Rejected(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}") from exc
    except OSError as exc:  # a timeout or disconnect mid-conversation: it may have been queued
        raise OutcomeUnknown(f"SMTP conversation broke off: {exc!r}") from exc
    finally:
        connection.close()
    return message_id


class RebasedTwilioHttpClient(TwilioHttpClient):
    """The real Twilio HTTP client, sending to another base URL (a loopback fake, a staging proxy)."""

    def __init__(self, base_url: str, **kwargs):
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def request(self, method, url, *args, **kwargs):
        if url.startswith(TWILIO_API):
            url = self.base_url + url[len(TWILIO_API) :]
        return super().request(method, url, *args, **kwargs)


def twilio_client() -> Client:
    if settings.TWILIO_API_BASE:
        http_client = RebasedTwilioHttpClient(
            settings.TWILIO_API_BASE, timeout=settings.TWILIO_TIMEOUT, logger=_twilio_http_log
        )
    else:
        http_client = TwilioHttpClient(timeout=settings.TWILIO_TIMEOUT, logger=_twilio_http_log)
    return Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http_client)


def _twilio_configured() -> bool:
    return bool(settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN and settings.TWILIO_FROM_NUMBER)


def twilio_send(message: OutboxMessage, *, body: str, html_body: str = "", attachments=()) -> str:
    if attachments:  # refused when queued already; an SMS never carries files
        raise Rejected("An SMS cannot carry attachments.")
    if not _twilio_configured():
        raise NotDelivered("Twilio is not configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER).")
    try:
        sent = twilio_client().messages.create(to=message.recipient, from_=settings.TWILIO_FROM_NUMBER, body=body)
    except TwilioRestException as exc:
        # Twilio answers 429 and 5xx before it accepts a message; any other 4xx will not change.
        if exc.status == 429 or exc.status >= 500:
            raise NotDelivered(f"Twilio {exc.status}: {exc.msg}") from exc
        raise Rejected(f"Twilio {exc.status} ({exc.code}): {exc.msg}") from exc
    except requests.ConnectTimeout as exc:
        raise NotDelivered(f"Twilio unreachable: {exc!r}") from exc
    except requests.ConnectionError as exc:
        if _never_connected(exc):
            raise NotDelivered(f"Twilio unreachable: {exc!r}") from exc
        raise OutcomeUnknown(f"Twilio connection broke off: {exc!r}") from exc
    except requests.RequestException as exc:  # a read timeout after the request went out
        raise OutcomeUnknown(f"No answer from Twilio: {exc!r}") from exc
    return sent.sid


def _never_connected(exc: requests.ConnectionError) -> bool:
    """True when the TCP connection was never made (refused, unreachable, DNS), so nothing was sent."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, ConnectTimeoutError)


@dataclass(frozen=True)
class ProviderMessage:
    """One message as the provider lists it."""

    sid: str
    to: str
    sender: str
    body: str
    created_at: datetime | None
    sent_at: datetime | None
    status: str


def twilio_messages_list(*, to: str, since: datetime, until: datetime, limit: int = 500) -> list[ProviderMessage]:
    """The messages from our number to `to` that Twilio sent between `since` and `until`, newest first.

    Twilio documents its DateSent filters by whole days, so a day more is asked on either side and
    the caller matches the exact window. Raises `ProviderUnreachable` when Twilio should be asked
    again later, `ProviderQueryFailed` when asking again will not help.
    """
    if not _twilio_configured():
        raise ProviderQueryFailed(
            "Twilio is not configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER)."
        )
    page_size = min(getattr(settings, "PORTAL_OUTBOX_RECONCILE_PAGE_SIZE", 50), limit)
    try:
        records = twilio_client().messages.stream(
            to=to,
            from_=settings.TWILIO_FROM_NUMBER,
            date_sent_after=since - timedelta(days=1),
            date_sent_before=until + timedelta(days=1),
            limit=limit,
            page_size=page_size,
        )
        return [
            ProviderMessage(
                sid=record.sid,
                to=record.to or "",
                sender=record.from_ or "",
                body=record.body or "",
                created_at=_aware(record.date_created),
                sent_at=_aware(record.date_sent),
                status=str(record.status or ""),
            )
            for record in records
        ]
    except TwilioRestException as exc:
        if exc.status == 429 or exc.status >= 500:
            raise ProviderUnreachable(f"Twilio {exc.status}: {exc.msg}") from exc
        raise ProviderQueryFailed(f"Twilio {exc.status} ({exc.code}): {exc.msg}") from exc
    except TwilioException as exc:  # a further page that did not come back 200
        response = exc.args[1] if len(exc.args) > 1 else None
        status = getattr(response, "status_code", 0)
        if status == 429 or status >= 500:
            raise ProviderUnreachable(f"Twilio {status} while paging") from exc
        raise ProviderQueryFailed(f"Twilio {status} while paging: {exc}") from exc
    except requests.RequestException as exc:
        raise ProviderUnreachable(f"Twilio unreachable: {exc!r}") from exc


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and timezone.is_naive(moment):
        return moment.replace(tzinfo=UTC)
    return moment
