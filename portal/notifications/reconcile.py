"""Settling SMS whose outcome is unknown by asking the provider what it holds.

A send that broke off after the request left (a dropped connection, a timeout, a worker that
died) is marked unknown and never resent blindly. Twilio lists the messages it took, so we ask
it for those from our number to the recipient around the moment the send started:

- one whose text is ours (its keyed digest matches) and that no other row claims: the SMS was
  handed over; the row becomes sent, with Twilio's message id;
- none, once the grace period is over (Twilio lists a message within seconds of taking it):
  the SMS never got there; the row goes back to pending and is sent again, unless it is no
  longer worth sending (its secret part was destroyed, or its time is up), when it fails;
- Twilio unreachable: the row stays unknown and is asked about again later.

Each settlement is a conditional UPDATE (the row must still be unknown) with its audit event.
E-mail has no such list: unknown e-mails stay with staff.
"""

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from portal.audit.services import audit_record

from .delivery import not_worth_sending, outbox_publish_after_commit, secret_wipe_fields
from .models import OutboxMessage
from .sealed import text_digest_matches
from .transports import ProviderMessage, ProviderQueryFailed, twilio_messages_list

logger = logging.getLogger(__name__)

Status = OutboxMessage.Status

# Twilio's clock and ours may differ, and the request took a while: a copy created this long
# before or after the send started is still ours.
SKEW_SECONDS = 300
# Only after this long without a copy at Twilio is the SMS taken as never handed over.
GRACE_SECONDS = 600
# More messages than this to one number around one send, and "not found" is not certain.
LIST_LIMIT = 500
BATCH = 50


@dataclass
class Reconciliation:
    """What asking the provider did: rows settled per new status, rows left, and why it stopped."""

    sent: int = 0
    pending: int = 0
    failed: int = 0
    unknown: int = 0  # asked, but not settled yet (inside the grace period, or the answer was not certain)
    skipped: int = 0  # not an SMS of unknown outcome, or nothing to ask
    not_asked: int = 0  # left because the provider could not be asked
    error: ProviderQueryFailed | None = field(default=None, repr=False)

    def as_dict(self) -> dict[str, int]:
        return {key: getattr(self, key) for key in ("sent", "pending", "failed", "unknown", "skipped", "not_asked")}


def outbox_reconcile(*, actor=None, message_ids=None, now=None) -> Reconciliation:
    """Ask the provider about SMS of unknown outcome: these ids (staff), or a batch of the oldest asked.

    Stops at the first failure to ask (the provider is most likely down for every row); the
    failure is noted on that row and returned in `error`.
    """
    now = now or timezone.now()
    result = Reconciliation()
    candidates = OutboxMessage.objects.filter(
        status=Status.UNKNOWN, channel=OutboxMessage.Channel.SMS, send_started_at__isnull=False
    )
    if message_ids is not None:
        wanted = list(message_ids)
        ids = list(candidates.filter(pk__in=wanted).order_by("id").values_list("pk", flat=True))
        result.skipped = len(set(wanted)) - len(ids)
    else:
        batch = getattr(settings, "PORTAL_OUTBOX_RECONCILE_BATCH", BATCH)
        ids = list(
            candidates.order_by(F("provider_checked_at").asc(nulls_first=True), "id").values_list("pk", flat=True)[
                :batch
            ]
        )
    for position, message_id in enumerate(ids):
        try:
            outcome = outbox_message_reconcile(message_id=message_id, actor=actor, now=now)
        except ProviderQueryFailed as exc:
            result.error = exc
            result.not_asked = len(ids) - position
            logger.warning("Could not ask the SMS provider about unknown outbox messages: %s", exc)
            break
        setattr(result, str(outcome), getattr(result, str(outcome)) + 1)
    return result


def outbox_message_reconcile(*, message_id: int, actor=None, now=None) -> str:
    """Ask the provider about one SMS of unknown outcome and settle it if the answer is certain.

    Returns the row's status afterwards ("sent", "pending", "failed", "unknown"), or "skipped".
    Raises `ProviderQueryFailed` (noted on the row) when the provider could not be asked.
    """
    now = now or timezone.now()
    message = OutboxMessage.objects.filter(pk=message_id).first()
    if (
        message is None
        or message.status != Status.UNKNOWN
        or message.channel != OutboxMessage.Channel.SMS
        or message.send_started_at is None
    ):
        return "skipped"
    if settings.PORTAL_SMS_TRANSPORT != "twilio":
        _note(message, now, f"Not asked: the SMS transport {settings.PORTAL_SMS_TRANSPORT!r} keeps no list to ask.")
        return "skipped"
    started = message.send_started_at
    skew = timedelta(seconds=getattr(settings, "PORTAL_OUTBOX_RECONCILE_SKEW_SECONDS", SKEW_SECONDS))
    try:
        listed = twilio_messages_list(
            to=message.recipient, since=started - skew, until=started + skew, limit=LIST_LIMIT
        )
    except ProviderQueryFailed as exc:
        _note(message, now, f"Could not ask Twilio: {exc}")
        raise
    # A copy another row already owns is that row's SMS, even with the same text (a repeated notice).
    owned = set(
        OutboxMessage.objects.filter(provider_message_id__in=[m.sid for m in listed])
        .exclude(pk=message.pk)
        .values_list("provider_message_id", flat=True)
    )
    matches = [m for m in listed if m.sid not in owned and _is_ours(message, m, skew)]
    if matches:
        match = min(matches, key=lambda m: (m.created_at or m.sent_at or now, m.sid))
        note = f"Twilio has it as {match.sid} ({match.status or 'no status'}): it was handed over."
        return _settle(
            message,
            actor=actor,
            now=now,
            status=Status.SENT,
            note=note,
            provider_message_id=match.sid[:255],
            sent_at=match.sent_at or match.created_at or now,
            last_error="",
        )
    grace = timedelta(seconds=getattr(settings, "PORTAL_OUTBOX_RECONCILE_GRACE_SECONDS", GRACE_SECONDS))
    if now < started + grace:
        _note(message, now, "Not at Twilio yet; asked again once the grace period is over.")
        return Status.UNKNOWN
    if len(listed) >= LIST_LIMIT:
        _note(message, now, f"Twilio lists {len(listed)} or more SMS to this number then; not sure enough to settle.")
        return Status.UNKNOWN
    refusal = not_worth_sending(message, now)
    if refusal:
        note = f"Not at Twilio: it was never handed over. {refusal}"
        return _settle(
            message, actor=actor, now=now, status=Status.FAILED, note=note, last_error=note, **secret_wipe_fields(now)
        )
    note = "Not at Twilio: it was never handed over, so it is sent again."
    return _settle(
        message,
        actor=actor,
        now=now,
        status=Status.PENDING,
        note=note,
        next_attempt_at=now,
        claimed_at=None,
        send_started_at=None,
        text_digest="",
        last_error=note,
    )


def _is_ours(message: OutboxMessage, listed: ProviderMessage, skew: timedelta) -> bool:
    moment = listed.created_at or listed.sent_at
    if moment is None or abs(moment - message.send_started_at) > skew:
        return False
    if listed.to != message.recipient or listed.sender != settings.TWILIO_FROM_NUMBER:
        return False
    if message.text_digest:
        return text_digest_matches(listed.body, message.text_digest)
    # Sent before texts were digested: only a text without a secret part can be compared.
    return not message.carries_secret and listed.body == message.body


def _settle(message: OutboxMessage, *, actor, now, status: str, note: str, **fields) -> str:
    with transaction.atomic():
        settled = OutboxMessage.objects.filter(pk=message.pk, status=Status.UNKNOWN).update(
            status=status, provider_checked_at=now, provider_check=note[:500], **fields
        )
        if not settled:
            return "skipped"  # staff requeued it, or another check settled it first
        audit_record(
            action="notifications.outbox_reconciled",
            actor=actor,
            actor_label="" if actor is not None else "system",
            obj=message,
            changes={
                "status": [Status.UNKNOWN, status],
                "provider": "twilio",
                "provider_message_id": fields.get("provider_message_id", ""),
                "answer": note,
            },
        )
        if status == Status.PENDING:
            outbox_publish_after_commit([message.pk])
    logger.info("Outbox message %s settled as %s: %s", message.pk, status, note)
    return status


def _note(message: OutboxMessage, now, note: str) -> None:
    OutboxMessage.objects.filter(pk=message.pk, status=Status.UNKNOWN).update(
        provider_checked_at=now, provider_check=note[:500]
    )
