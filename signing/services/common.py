"""What the sender's side, the client's side and the back office share: ending requests and
code rounds, telling the people concerned, and the texts they get."""

import logging
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import prefetch_related_objects
from django.urls import reverse
from django.utils import timezone

from portal.accounts.roles import Role
from portal.audit.services import audit_record
from portal.notifications.services import notify, outbox_secret_destroy

from .. import events
from ..models import (
    SignatureRequest,
    SigningChallenge,
    SigningCodeSend,
)

logger = logging.getLogger(__name__)
Status = SignatureRequest.Status
Kind = SignatureRequest.Kind
ChallengeStatus = SigningChallenge.Status
MAX_TEXT = 5000


def answer_load(request) -> None:
    """Load, inside the transaction, what an answer about the request shows (sender, attachments, evidence).

    The API answers from the object a service returns. A query for it after the commit could fail on
    a lost connection and turn a request that was made into a 500, which invites the client to send
    it again.
    """
    prefetch_related_objects([request], "sender", "attachments", "evidence")


def challenge_end(challenge, status: str, now, *, actor) -> None:
    """End one code round (its code no longer works), audited on the request."""
    challenge.status = status
    challenge.ended_at = now
    challenge.save(update_fields=["status", "ended_at"])
    code_secrets_destroy([challenge.pk], now)
    audit_record(
        action=f"signing.challenge_{status}",
        actor=actor,
        obj=challenge.request,
        changes={"challenge": challenge.pk, "status": [ChallengeStatus.ACTIVE, status]},
    )


def challenges_end(request, status: str) -> list[int]:
    now = timezone.now()
    ended = list(
        SigningChallenge.objects.filter(request=request, status=ChallengeStatus.ACTIVE).values_list("pk", flat=True)
    )
    if ended:
        SigningChallenge.objects.filter(pk__in=ended).update(status=status, ended_at=now)
        code_secrets_destroy(ended, now)
    return ended


def code_secrets_destroy(challenge_ids, now, *, sends=None) -> None:
    """A code that no longer works leaves no copy of ours: its SMS secrets go in this transaction.

    Whatever the scheduler does: a code SMS still waiting is not sent any more, and the dev
    transport's copy is masked. `sends` limits it to some of the rounds' SMS (a resend's old ones).
    """
    if sends is None:
        sends = SigningCodeSend.objects.filter(challenge_id__in=list(challenge_ids))
    outbox_secret_destroy(
        message_ids=list(sends.values_list("outbox_message_id", flat=True)),
        reason="Not sent: the signing code was no longer valid when it could have been sent.",
    )
    SigningChallenge.objects.filter(pk__in=list(challenge_ids), redacted_at__isnull=True).update(redacted_at=now)


def expire(request) -> None:
    old = request.status
    request.status = Status.EXPIRED
    request.save(update_fields=["status"])
    ended = challenges_end(request, ChallengeStatus.VOID)
    audit_record(
        action="signing.request_expired",
        obj=request,
        actor_label="system",
        changes={
            "status": [old, Status.EXPIRED],
            "expires_at": request.expires_at.isoformat(),
            "codes_voided": ended,
        },
    )
    notify_sender(request, "signing.request_expired", key=f"signing:{request.pk}:expired")
    events.send_on_commit(events.request_expired, request)


def notify_client(request, event: str, *, key: str) -> None:
    notify(
        user=request.recipient,
        event=event,
        context=notice_context(request),
        link=reverse("signing:inbox-detail", args=[request.pk]),
        idempotency_key=key,
    )


def notify_sender(request, event: str, *, key: str) -> None:
    notify(
        user=request.sender,
        event=event,
        context=notice_context(request),
        link=reverse("signing:request-detail", args=[request.pk]),
        idempotency_key=key,
    )


def notice_context(request) -> dict:
    return {
        "request": request,
        "sender_name": request.sender.get_full_name() or request.sender.email,
        "client_name": request.recipient.get_full_name() or request.recipient_label,
    }


def backoffice_users():
    return list(get_user_model().objects.filter(groups__name=Role.BACKOFFICE, is_active=True).distinct().order_by("pk"))


def language(user) -> str:
    return user.language if user.language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def local(moment) -> str:
    from django.utils.formats import date_format

    return date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def jsonable(value):
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return value
