"""Reads, always scoped to the actor: the sender's side, the client's side, the back office."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Case, F, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone

from portal.audit.models import AuditEvent
from portal.notifications.models import OutboxMessage

from . import limits
from .models import SignatureAttachment, SignatureRequest, SigningChallenge, SigningCodeSend, SigningGuard

Status = SignatureRequest.Status


def _base(actor, action: str) -> QuerySet[SignatureRequest]:
    return SignatureRequest.objects.restrict(actor, action).select_related("sender", "recipient", "organisation")


# --- the sender's side: broker, firm manager, back office ----------------------------------


def signature_request_list(*, actor) -> QuerySet[SignatureRequest]:
    """The requests whose status the actor may follow, newest first."""
    return _base(actor, "follow").order_by("-created_at", "-id")


def access_signature_request(*, actor, request_id) -> SignatureRequest:
    """One request on the sender's side, or 404 if the actor may not follow it."""
    try:
        return (
            signature_request_list(actor=actor)
            .prefetch_related("attachments")
            .select_related("handled_by")
            .get(pk=request_id)
        )
    except (SignatureRequest.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


# --- the client's side ------------------------------------------------------------------


def inbox_list(*, actor) -> QuerySet[SignatureRequest]:
    """The requests sent to the actor (never drafts): open ones first, then newest first."""
    return (
        _base(actor, "sign")
        .annotate(
            waiting=Case(
                When(status__in=SignatureRequest.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .order_by("waiting", "-sent_at", "-id")
    )


def access_received_request(*, actor, request_id) -> SignatureRequest:
    """One request addressed to the actor, or 404."""
    try:
        return inbox_list(actor=actor).prefetch_related("attachments").get(pk=request_id)
    except (SignatureRequest.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def waiting_list(*, actor) -> QuerySet[SignatureRequest]:
    """The requests waiting for the actor's signature (open and not past their deadline), the most urgent first."""
    return (
        _base(actor, "sign")
        .filter(status__in=SignatureRequest.OPEN)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
        .order_by(F("expires_at").asc(nulls_last=True), "-sent_at", "-id")
    )


def signed_list(*, actor) -> QuerySet[SignatureRequest]:
    """The actor's signed requests whose signed PDF is ready, with the evidence, the latest signed first."""
    return (
        SignatureRequest.objects.restrict(actor, "sign")
        .filter(status__in=SignatureRequest.SIGNED_STATES, evidence__isnull=False)
        .exclude(evidence__pdf="")
        .select_related("evidence")
        .order_by("-signed_at", "-id")
    )


def received_list(*, actor) -> QuerySet[SignatureRequest]:
    """Every request sent to the actor (never drafts) with the sender and the evidence, oldest first."""
    return _base(actor, "sign").select_related("evidence").order_by("created_at", "id")


# --- either side --------------------------------------------------------------------------


def access_any_side(*, actor, request_id) -> SignatureRequest:
    """A request the actor may read from either side (attachments, the signed PDF), or 404."""
    try:
        return _base(actor, "read").get(pk=request_id)
    except (SignatureRequest.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def access_attachment(*, actor, request_id, attachment_id) -> SignatureAttachment:
    request = access_any_side(actor=actor, request_id=request_id)
    try:
        return request.attachments.get(pk=attachment_id)
    except (SignatureAttachment.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def signature_request_history(*, request) -> QuerySet[AuditEvent]:
    """The request's audit events, oldest first: every state change, who and when."""
    return (
        AuditEvent.objects.filter(object_type=SignatureRequest._meta.label_lower, object_id=str(request.pk))
        .select_related("actor")
        .order_by("created_at", "id")
    )


@dataclass(frozen=True)
class CodeState:
    """What the client page says about the code: none yet, on its way, sent, or a problem."""

    challenge: SigningChallenge | None
    delivery: str  # "", pending, sending, sent, failed, unknown (the outbox row's status)
    sent_at: datetime | None
    valid_until: datetime | None
    resend_in: int  # seconds until a resend is allowed (0: now)
    resends_left: int
    locked_until: datetime | None

    @property
    def in_flight(self) -> bool:
        return self.delivery in (OutboxMessage.Status.PENDING, OutboxMessage.Status.SENDING)

    @property
    def expired(self) -> bool:
        """The code's five minutes are over (the round ends for good at the next check or sweep)."""
        return not self.in_flight and self.valid_until is not None and self.valid_until <= timezone.now()


def code_state(*, request: SignatureRequest, actor) -> CodeState:
    """The current code round of a request for the client page (a few queries, whatever the history)."""
    now = timezone.now()
    guard = SigningGuard.objects.filter(user=actor).first()
    locked_until = guard.locked_until if guard is not None and guard.is_locked(now) else None
    challenge = (
        SigningChallenge.objects.filter(request=request, status=SigningChallenge.Status.ACTIVE)
        .prefetch_related(
            Prefetch(
                "code_sends",
                queryset=SigningCodeSend.objects.select_related("outbox_message").order_by("-created_at", "-id"),
            )
        )
        .first()
    )
    if challenge is None:
        return CodeState(None, "", None, None, 0, limits.RESENDS_PER_CHALLENGE, locked_until)
    sends = list(challenge.code_sends.all())
    latest = sends[0] if sends else None
    message = latest.outbox_message if latest else None
    delivery = message.status if message else ""
    handed_over = message.send_started_at if message else None
    last_to_phone = (
        SigningCodeSend.objects.filter(phone=challenge.phone)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    resend_in = 0
    if last_to_phone is not None:
        wait = last_to_phone + timedelta(seconds=limits.RESEND_INTERVAL_SECONDS) - now
        resend_in = max(0, int(wait.total_seconds() + 0.999))
    return CodeState(
        challenge=challenge,
        delivery=delivery,
        sent_at=message.sent_at if message else None,
        valid_until=limits.code_valid_until(challenge, handed_over),
        resend_in=resend_in,
        resends_left=max(0, limits.RESENDS_PER_CHALLENGE - (challenge.sends - 1)),
        locked_until=locked_until,
    )
