"""The back office hands signed requests over; periodic work expires what is past its time."""

import logging
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.audit.services import audit_record

from .. import events, limits, permissions
from ..inbox import signed_request_inbox_close
from ..models import (
    SignatureRequest,
    SigningChallenge,
)
from .common import MAX_TEXT, ChallengeStatus, Status, code_secrets_destroy, expire, notify_sender

logger = logging.getLogger(__name__)


HANDLING_OUTCOMES = (Status.PROCESSED, Status.RETURNED)


def signature_request_handle(*, actor, request_id, outcome: str, comment: str = "") -> SignatureRequest:
    """The back office took the signed request into the core system (processed) or sent it back (returned)."""
    if not permissions.can_handle(actor):
        raise Http404
    comment = (comment or "").strip()
    if outcome not in HANDLING_OUTCOMES:
        raise ValidationError(_("Choose processed or returned."), code="outcome")
    if outcome == Status.RETURNED and not comment:
        raise ValidationError({"comment": [_("Say why the request is returned.")]}, code="comment_required")
    if len(comment) > MAX_TEXT:
        raise ValidationError({"comment": [_("Keep the comment under %(max)d characters.") % {"max": MAX_TEXT}]})
    with transaction.atomic():
        try:
            # The policy's "follow" for back office: every request but drafts; the state is checked below.
            request = SignatureRequest.objects.select_for_update().restrict(actor, "follow").get(pk=request_id)
        except (SignatureRequest.DoesNotExist, ValueError, TypeError):
            raise Http404 from None
        if request.status != Status.SIGNED:
            raise ValidationError(
                _("Only a signed request that is not handled yet can be marked; this one is %(status)s."),
                code="not_signed",
                params={"status": request.get_status_display()},
            )
        request.status = outcome
        request.handled_at = timezone.now()
        request.handled_by = actor
        request.handling_comment = comment
        request.save(update_fields=["status", "handled_at", "handled_by", "handling_comment"])
        audit_record(
            action=f"signing.request_{outcome}",
            actor=actor,
            obj=request,
            changes={"status": [Status.SIGNED, outcome], "comment": comment},
        )
        notify_sender(request, f"signing.request_{outcome}", key=f"signing:{request.pk}:{outcome}")
        signed_request_inbox_close(request)
        events.send_on_commit(events.request_handled, request)
    return request


def signature_requests_expire(*, now=None, batch: int = 500) -> int:
    """Requests past their deadline and still unsigned expire (the periodic sweep; safe to run twice)."""
    now = now or timezone.now()
    due = list(
        SignatureRequest.objects.filter(status__in=SignatureRequest.OPEN, expires_at__lte=now)
        .order_by("expires_at")
        .values_list("pk", flat=True)[:batch]
    )
    expired = 0
    for pk in due:
        with transaction.atomic():
            request = SignatureRequest.objects.select_for_update().get(pk=pk)
            if request.status in SignatureRequest.OPEN and request.is_past_deadline(now):
                expire(request)
                expired += 1
    return expired


def signing_challenges_expire_stale(*, now=None, batch: int = 500) -> int:
    """Code rounds whose code cannot be valid any more end (the client walked away); returns how many.

    Ending a round destroys its SMS secrets (see `code_secrets_destroy`); every other way a round
    ends does so in its own transaction, so this sweep only tidies up after time ran out.
    """
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=limits.CODE_DELIVERY_GRACE_SECONDS + limits.CODE_TTL_SECONDS)
    stale = SigningChallenge.objects.filter(status=ChallengeStatus.ACTIVE, code_issued_at__lt=stale_before)
    expired = 0
    for challenge in stale.select_related("request").order_by("code_issued_at")[:batch]:
        with transaction.atomic():
            ended = SigningChallenge.objects.filter(pk=challenge.pk, status=ChallengeStatus.ACTIVE).update(
                status=ChallengeStatus.EXPIRED, ended_at=now
            )
            if ended:
                code_secrets_destroy([challenge.pk], now)
                audit_record(
                    action="signing.challenge_expired",
                    obj=challenge.request,
                    actor_label="system",
                    changes={"challenge": challenge.pk, "status": [ChallengeStatus.ACTIVE, ChallengeStatus.EXPIRED]},
                )
                expired += 1
    return expired
