"""Delivering outbox rows: claim, send once, record the outcome; and the periodic sweep.

Every step is a conditional UPDATE on the row, committed on its own, so that any number of
workers, retries and sweeps can run at once and a message is still handed to the provider
at most once per claim, and never again after it was sent or its outcome became unknown.
The UPDATE that records the end of a send (sent, unknown, failed) also drops the sealed secret
part: from then on the provider holds the only copy.
"""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Case, DateTimeField, F, Value, When
from django.utils import timezone

from portal.core.cache import redis_circuit

from .attachments import AttachmentRefused, message_files
from .models import OutboxAttachment, OutboxMessage
from .sealed import SecretUnreadable, text_digest
from .texts import outbox_texts_now, user_language
from .transports import NotDelivered, OutcomeUnknown, Rejected, message_texts, transport_for

logger = logging.getLogger(__name__)

Status = OutboxMessage.Status


def outbox_publish_after_commit(message_ids: list[int]) -> None:
    """Queue delivery of these rows once the current transaction commits."""
    if message_ids:
        ids = list(message_ids)
        transaction.on_commit(lambda: outbox_publish(ids))


def outbox_publish(message_ids: list[int]) -> int:
    """Hand the rows to the broker; a broker that is down or hung is logged, never raised.

    Returns how many were published. The rows are in the database already, so anything not
    published here is picked up by `outbox_sweep`. While Redis (the broker) is known to be away,
    requests do not wait for it again: the circuit it shares with the cache is open.
    """
    from .tasks import deliver_outbox_message

    redis = redis_circuit()
    if not deliver_outbox_message.app.conf.task_always_eager and not redis.allows():
        logger.info("Broker recently failed; leaving outbox rows %s to the sweep.", message_ids)
        return 0
    published = 0
    for message_id in message_ids:
        try:
            deliver_outbox_message.delay(message_id)
        except Exception:  # any broker failure; the request must go on
            redis.trip()
            logger.warning(
                "Could not queue outbox rows %s; the sweep will deliver them.", message_ids[published:], exc_info=True
            )
            break
        published += 1
    return published


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff: base, 2×base, 4×base … capped."""
    base = getattr(settings, "PORTAL_OUTBOX_RETRY_BASE_SECONDS", 30)
    cap = getattr(settings, "PORTAL_OUTBOX_RETRY_MAX_SECONDS", 3600)
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), cap))


def secret_wipe_fields(now) -> dict:
    """UPDATE fields that drop the sealed secret, noting when, if the row still had one.

    Both SET expressions see the row as it was, so the time is kept only where a secret went.
    """
    return {
        "secret": "",
        "secret_wiped_at": Case(
            When(secret="", then=F("secret_wiped_at")), default=Value(now), output_field=DateTimeField()
        ),
    }


def not_worth_sending(message: OutboxMessage, now) -> str:
    """Why this message must not go out any more ("" if it may): its secret is gone, or its time is up."""
    if message.secret_lost:
        return "Not sent: its secret part was destroyed before it was handed over (no longer needed)."
    if message.send_before is not None and now >= message.send_before:
        return f"Not sent: it was of no use after {message.send_before.isoformat()}."
    return ""


def outbox_message_deliver(*, message_id: int) -> str | None:
    """Send one due pending row. Returns the row's new status, or None if it was not ours to send."""
    claimed_at = timezone.now()
    claimed = OutboxMessage.objects.filter(
        pk=message_id, status=Status.PENDING, next_attempt_at__lte=claimed_at
    ).update(status=Status.SENDING, claimed_at=claimed_at, attempts=F("attempts") + 1)
    if not claimed:
        return None  # sent, unknown, failed, not due yet, or another worker has it
    ours = OutboxMessage.objects.filter(pk=message_id, claimed_at=claimed_at)
    message = OutboxMessage.objects.select_related("user").get(pk=message_id)
    refusal = not_worth_sending(message, claimed_at)
    if not refusal and (fresh := outbox_texts_now(message)):
        # A notification speaks the recipient's language of now; the row shows what goes out.
        ours.update(**fresh)
        for name, value in fresh.items():
            setattr(message, name, value)
    try:
        body, html_body = ("", "") if refusal else message_texts(message)
    except SecretUnreadable as exc:
        refusal = f"Not sent: {exc}"
    if refusal:
        logger.info("Outbox message %s: %s", message_id, refusal)
        ours.update(status=Status.FAILED, last_error=refusal, **secret_wipe_fields(claimed_at))
        return Status.FAILED
    try:
        files = _files_render(message)
    except AttachmentRefused as exc:
        logger.warning("Outbox message %s not sent: %s", message_id, exc)
        ours.update(status=Status.FAILED, last_error=f"Not sent: {exc}"[:2000], **secret_wipe_fields(timezone.now()))
        return Status.FAILED
    except Exception as exc:  # the renderer's data or library briefly failing: nothing was sent yet
        logger.warning("Outbox message %s: its attachments could not be made", message_id, exc_info=True)
        return _not_delivered(ours, message, NotDelivered(f"Attachment could not be made: {exc!r}"))
    try:
        send = transport_for(message.channel)
    except NotDelivered as exc:
        return _not_delivered(ours, message, exc)
    # From here on a crash leaves evidence that the provider may have been called.
    if not ours.filter(status=Status.SENDING).update(send_started_at=timezone.now(), text_digest=text_digest(body)):
        return None  # the sweep took the row back meanwhile
    try:
        provider_id = send(message, body=body, html_body=html_body, attachments=files)
    except NotDelivered as exc:
        return _not_delivered(ours, message, exc)
    except Rejected as exc:
        logger.warning("Outbox message %s rejected: %s", message_id, exc)
        ours.update(status=Status.FAILED, last_error=str(exc)[:2000], **secret_wipe_fields(timezone.now()))
        return Status.FAILED
    except Exception as exc:  # OutcomeUnknown, or anything unforeseen after the send started
        if not isinstance(exc, OutcomeUnknown):
            logger.exception("Unexpected error while sending outbox message %s", message_id)
        logger.warning("Outbox message %s: outcome unknown, not resent automatically: %s", message_id, exc)
        # The provider may hold the message: it keeps the only copy of the secret from now on.
        ours.update(status=Status.UNKNOWN, last_error=str(exc)[:2000], **secret_wipe_fields(timezone.now()))
        return Status.UNKNOWN
    # Recorded even if the sweep marked the row unknown meanwhile: this is what really happened.
    now = timezone.now()
    ours.update(
        status=Status.SENT,
        sent_at=now,
        provider_message_id=provider_id[:255],
        last_error="",
        **secret_wipe_fields(now),
    )
    logger.info("Outbox message %s sent via %s as %s", message_id, message.channel, provider_id)
    return Status.SENT


def _files_render(message: OutboxMessage) -> list[tuple[str, bytes, str]]:
    """The message's attachments made now, in its recipient's language (an SMS has none)."""
    if message.channel != OutboxMessage.Channel.EMAIL:
        return []
    language = user_language(message.user) if message.user else settings.LANGUAGE_CODE
    files = []
    for attachment, data in message_files(message, language=language):
        if attachment.size != len(data):
            OutboxAttachment.objects.filter(pk=attachment.pk).update(size=len(data))
        files.append((attachment.filename, data, attachment.content_type))
    return files


def _not_delivered(ours, message: OutboxMessage, exc: Exception) -> str:
    attempts = message.attempts  # already counts this attempt
    if attempts >= settings.PORTAL_OUTBOX_MAX_ATTEMPTS:
        logger.warning("Outbox message %s failed after %s attempts: %s", message.pk, attempts, exc)
        ours.update(status=Status.FAILED, last_error=str(exc)[:2000], **secret_wipe_fields(timezone.now()))
        return Status.FAILED
    next_attempt_at = timezone.now() + retry_delay(attempts)
    logger.info("Outbox message %s not delivered (%s); next attempt at %s", message.pk, exc, next_attempt_at)
    ours.update(
        status=Status.PENDING,
        next_attempt_at=next_attempt_at,
        claimed_at=None,
        send_started_at=None,
        last_error=str(exc)[:2000],
    )
    return Status.PENDING


def outbox_recover_stuck(*, now=None) -> tuple[int, int]:
    """Rows left in `sending` by a crashed worker: retry if sending never started, else mark unknown."""
    now = now or timezone.now()
    stuck_before = now - timedelta(seconds=getattr(settings, "PORTAL_OUTBOX_STUCK_SECONDS", 300))
    stuck = OutboxMessage.objects.filter(status=Status.SENDING, claimed_at__lt=stuck_before)
    retried = stuck.filter(send_started_at__isnull=True).update(
        status=Status.PENDING, next_attempt_at=now, claimed_at=None, last_error="Worker stopped before sending."
    )
    unknown = stuck.filter(send_started_at__isnull=False).update(
        status=Status.UNKNOWN,
        last_error="Worker stopped while sending; the provider may have the message.",
        **secret_wipe_fields(now),
    )
    if retried or unknown:
        logger.warning("Outbox sweep: %s stuck rows retried, %s marked unknown", retried, unknown)
    return retried, unknown


def outbox_secrets_expire(*, now=None) -> int:
    """Sealed secrets past their `send_before`: dropped, and a message still waiting is not sent.

    Returns how many waiting messages failed so. A row being sent right now is left to its worker.
    """
    now = now or timezone.now()
    due = OutboxMessage.objects.exclude(secret="").filter(send_before__lte=now)
    failed = due.filter(status=Status.PENDING).update(
        status=Status.FAILED,
        last_error="Not sent: it was of no use any more when it could have been sent.",
        **secret_wipe_fields(now),
    )
    due.exclude(status=Status.SENDING).update(**secret_wipe_fields(now))
    return failed


def outbox_sweep() -> dict[str, int]:
    """Recover stuck rows, drop expired secrets, then deliver the due pending ones (a batch per run)."""
    retried, unknown = outbox_recover_stuck()
    expired = outbox_secrets_expire()
    batch = getattr(settings, "PORTAL_OUTBOX_SWEEP_BATCH", 100)
    due = list(
        OutboxMessage.objects.filter(status=Status.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:batch]
    )
    results = {"recovered": retried, "unknown": unknown, "sent": 0, "pending": 0, "failed": expired}
    # Stop before the next periodic run is due; what is left waits for it (overlap would be safe, just wasteful).
    deadline = time.monotonic() + getattr(settings, "PORTAL_OUTBOX_SWEEP_SECONDS", 25)
    for message_id in due:
        if time.monotonic() > deadline:
            break
        status = outbox_message_deliver(message_id=message_id)
        if status in (Status.SENT, Status.PENDING, Status.FAILED):
            results[str(status)] += 1
        elif status == Status.UNKNOWN:
            results["unknown"] += 1
    return results
