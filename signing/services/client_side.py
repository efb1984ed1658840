"""The client's side: read a request, ask for a code, sign with it or decline.

Code rounds and signing lock the client's `SigningGuard` row first, then the request, then
the challenge, so every counter of one client changes one request at a time; refusals that
count (a wrong code) are committed before they are raised.
"""

import logging
import re
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from portal.accounts.roles import Role
from portal.audit import context as audit_context
from portal.audit.services import audit_record
from portal.core.templatetags.portal_format import number_format
from portal.notifications.sealed import PLACEHOLDER as SECRET_PLACEHOLDER
from portal.notifications.services import E164_RE, notify, sms_queue

from .. import events, limits
from ..content import content_document, document_hash, file_sha256
from ..inbox import signed_request_inbox_open
from ..models import (
    SignatureEvidence,
    SignatureRequest,
    SigningChallenge,
    SigningCodeSend,
    SigningFailure,
    SigningGuard,
    SigningPhoneGuard,
)
from .common import (
    MAX_TEXT,
    ChallengeStatus,
    Kind,
    Status,
    backoffice_users,
    challenge_end,
    challenges_end,
    code_secrets_destroy,
    expire,
    language,
    local,
    notice_context,
    notify_sender,
)

logger = logging.getLogger(__name__)


class CodeRefused(ValidationError):
    """The code was not accepted; `remaining` wrong tries are left on this challenge."""

    def __init__(self, message, *, code, remaining: int = 0, params=None):
        super().__init__(message, code=code, params=params)
        self.remaining = remaining


@dataclass(frozen=True)
class CodeSent:
    challenge: SigningChallenge
    send: SigningCodeSend
    resent: bool


def signature_request_mark_viewed(*, actor, request: SignatureRequest) -> SignatureRequest:
    """The client has the current content in front of them: remember which, and say so once per version."""
    if request.status not in SignatureRequest.OPEN or (
        request.status == Status.VIEWED and request.viewed_hash == request.content_hash
    ):
        return request
    with transaction.atomic():
        request = _client_side_for_update(actor, request.pk)
        if request.status not in SignatureRequest.OPEN:
            return request
        if request.is_past_deadline():
            expire(request)
            return request
        if request.status == Status.VIEWED and request.viewed_hash == request.content_hash:
            return request
        old = request.status
        request.status = Status.VIEWED
        request.viewed_at = timezone.now()
        request.viewed_hash = request.content_hash
        request.save(update_fields=["status", "viewed_at", "viewed_hash"])
        audit_record(
            action="signing.request_viewed",
            actor=actor,
            obj=request,
            changes={"status": [old, Status.VIEWED], "content_hash": request.content_hash, "version": request.version},
        )
    return request


def signed_pdf_mark_downloaded(*, actor, request: SignatureRequest) -> bool:
    """The signer downloaded their signed PDF: the client zone stops listing it as new. Once, audited.

    Anybody else's download (the broker's, the back office's) changes nothing. Returns whether it marked.
    """
    if request.recipient_id != actor.pk or not request.is_signed:
        return False
    with transaction.atomic():
        now = timezone.now()
        marked = SignatureEvidence.objects.filter(request_id=request.pk, client_downloaded_at__isnull=True).update(
            client_downloaded_at=now
        )
        if marked:
            audit_record(
                action="signing.signed_pdf_downloaded",
                actor=actor,
                obj=request,
                changes={"client_downloaded_at": now.isoformat()},
            )
    return bool(marked)


def signing_code_request(*, actor, request_id, content_hash: str) -> CodeSent:
    """Send a code for exactly the content the client has seen; a second call is a resend."""
    refusal = None
    result = None
    with transaction.atomic(durable=True):
        guard = _guard_lock(actor)
        request = _client_side_for_update(actor, request_id)
        now = timezone.now()
        refusal = _open_for_signing(request, guard, now)
        if refusal is None and (content_hash != request.content_hash or request.viewed_hash != request.content_hash):
            refusal = _content_changed_refusal()
        if refusal is None and not E164_RE.match(actor.phone or ""):
            refusal = ValidationError(
                _("Your login has no mobile number for the code. Please contact your broker."), code="no_phone"
            )
        if refusal is None and actor.phone_verified_at is None:
            refusal = ValidationError(
                _(
                    "You have not verified your mobile number yet, so we cannot send you a code. Verify it under Profile, then ask for the code again."
                ),
                code="phone_unverified",
            )
        if refusal is None:
            challenge = _active_challenge(request)
            if challenge is not None and (
                challenge.content_hash != request.content_hash or challenge.phone != actor.phone
            ):
                challenge_end(challenge, ChallengeStatus.VOID, now, actor=actor)
                challenge = None
            if challenge is not None and now >= _valid_until(challenge):
                challenge_end(challenge, ChallengeStatus.EXPIRED, now, actor=actor)
                challenge = None
            refusal = _send_allowed(actor.phone, challenge, now)
            if refusal is None:
                result = _code_send(request, challenge, actor, now)
    if refusal is not None:
        raise refusal
    return result


def signature_request_sign(*, actor, request_id, code: str, content_hash: str) -> SignatureEvidence:
    """Check the code against the current challenge and content; the first right code signs, once."""
    code = re.sub(r"\s+", "", code or "")
    if not limits.code_well_formed(code):
        raise ValidationError(_("Enter the 6-digit code from the SMS."), code="code_format")
    refusal = None
    evidence = None
    with transaction.atomic(durable=True):
        guard = _guard_lock(actor)
        request = _client_side_for_update(actor, request_id)
        now = timezone.now()
        if request.status in SignatureRequest.SIGNED_STATES:
            refusal = ValidationError(_("This request is already signed."), code="already_signed")
        else:
            refusal = _open_for_signing(request, guard, now)
        challenge = _active_challenge(request) if refusal is None else None
        if refusal is None and challenge is None:
            refusal = ValidationError(_("Request a code first."), code="no_code")
        if refusal is None and (challenge.content_hash != request.content_hash or content_hash != request.content_hash):
            challenge_end(challenge, ChallengeStatus.VOID, now, actor=actor)
            refusal = _content_changed_refusal()
        if refusal is None and now >= _valid_until(challenge):
            challenge_end(challenge, ChallengeStatus.EXPIRED, now, actor=actor)
            refusal = ValidationError(_("This code has expired. Request a new code."), code="code_expired")
        if refusal is None and not limits.code_matches(
            challenge=challenge, content_hash=request.content_hash, code=code
        ):
            refusal = _wrong_code(request, challenge, guard, actor, now)
        if refusal is None:
            refusal = _integrity_refusal(request, actor)
        if refusal is None:
            evidence = _sign(request, challenge, actor, now)
    if refusal is not None:
        raise refusal
    return evidence


def signature_request_decline(*, actor, request_id, reason: str) -> SignatureRequest:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Tell your broker why you decline.")]}, code="reason_required")
    if len(reason) > MAX_TEXT:
        raise ValidationError({"reason": [_("Keep the reason under %(max)d characters.") % {"max": MAX_TEXT}]})
    refusal = None
    with transaction.atomic():
        request = _client_side_for_update(actor, request_id)
        if request.status not in SignatureRequest.OPEN:
            refusal = _not_open_refusal(request)
        elif request.is_past_deadline():
            expire(request)
            refusal = _not_open_refusal(request)
        else:
            old = request.status
            request.status = Status.DECLINED
            request.declined_at = timezone.now()
            request.decline_reason = reason
            request.save(update_fields=["status", "declined_at", "decline_reason"])
            ended = challenges_end(request, ChallengeStatus.VOID)
            audit_record(
                action="signing.request_declined",
                actor=actor,
                obj=request,
                changes={"status": [old, Status.DECLINED], "reason": reason, "codes_voided": ended},
            )
            notify_sender(request, "signing.request_declined", key=f"signing:{request.pk}:declined")
            events.send_on_commit(events.request_declined, request)
    if refusal is not None:
        raise refusal
    return request


def _client_side_for_update(actor, request_id) -> SignatureRequest:
    rows = SignatureRequest.objects.select_for_update().restrict(actor, "sign")
    try:
        return rows.get(pk=request_id)
    except (SignatureRequest.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def _guard_lock(user) -> SigningGuard:
    SigningGuard.objects.bulk_create([SigningGuard(user=user)], ignore_conflicts=True)
    return SigningGuard.objects.select_for_update().get(user=user)


def _phone_lock(phone: str) -> None:
    SigningPhoneGuard.objects.bulk_create([SigningPhoneGuard(phone=phone)], ignore_conflicts=True)
    SigningPhoneGuard.objects.select_for_update().get(phone=phone)


def _active_challenge(request) -> SigningChallenge | None:
    return (
        SigningChallenge.objects.select_for_update()
        .filter(request=request, status=ChallengeStatus.ACTIVE)
        .order_by("-id")
        .first()
    )


def _latest_send(challenge) -> SigningCodeSend | None:
    return challenge.code_sends.select_related("outbox_message").order_by("-created_at", "-id").first()


def _valid_until(challenge):
    send = _latest_send(challenge)
    message = send.outbox_message if send is not None else None
    return limits.code_valid_until(challenge, message.send_started_at if message is not None else None)


def _open_for_signing(request, guard, now) -> ValidationError | None:
    """Why the client cannot get or use a code now, or None."""
    if request.status not in SignatureRequest.OPEN:
        return _not_open_refusal(request)
    if request.is_past_deadline(now):
        expire(request)
        return _not_open_refusal(request)
    if guard.is_locked(now):
        return ValidationError(
            _(
                "Signing is locked after too many wrong codes until %(until)s. Your broker and our back office were told."
            ),
            code="locked",
            params={"until": local(guard.locked_until)},
        )
    return None


def _not_open_refusal(request) -> ValidationError:
    return ValidationError(
        _("This request is %(status)s and cannot be signed."),
        code="not_open",
        params={"status": request.get_status_display()},
    )


def _content_changed_refusal() -> ValidationError:
    return ValidationError(
        _("The request has changed since you opened it. Read the new content, then request a new code."),
        code="content_changed",
    )


def _send_allowed(phone: str, challenge, now) -> ValidationError | None:
    _phone_lock(phone)
    recent = SigningCodeSend.objects.filter(phone=phone, created_at__gt=now - limits.WINDOW)
    last = recent.order_by("-created_at").values_list("created_at", flat=True).first()
    if last is not None and now - last < timedelta(seconds=limits.RESEND_INTERVAL_SECONDS):
        wait = limits.RESEND_INTERVAL_SECONDS - int((now - last).total_seconds())
        return ValidationError(
            _("A code was just sent. You can ask for another one in %(seconds)d seconds."),
            code="too_soon",
            params={"seconds": max(wait, 1)},
        )
    if recent.count() >= limits.SMS_PER_PHONE_PER_DAY:
        return ValidationError(
            _("Your phone has had the most codes allowed in 24 hours. Please try again tomorrow."),
            code="phone_limit",
        )
    if challenge is not None and challenge.sends - 1 >= limits.RESENDS_PER_CHALLENGE:
        return ValidationError(
            _("The code cannot be sent again. Use the last code you received, or wait until it expires."),
            code="resend_limit",
        )
    return None


def _code_send(request, challenge, actor, now) -> CodeSent:
    resent = challenge is not None
    if challenge is None:
        challenge = SigningChallenge.objects.create(
            request=request,
            user=actor,
            phone=actor.phone,
            content_hash=request.content_hash,
            code_hash="",
            created_at=now,
            code_issued_at=now,
        )
    else:
        # The new code replaces the old one, which stops working now: its SMS keeps no copy of it.
        code_secrets_destroy([], now, sends=challenge.code_sends.all())
    code = limits.code_generate()
    challenge.code_hash = limits.code_digest(challenge_id=challenge.pk, content_hash=request.content_hash, code=code)
    challenge.code_issued_at = now
    challenge.sends += 1
    challenge.save(update_fields=["code_hash", "code_issued_at", "sends"])
    # The code travels apart from the text, sealed; only the SMS transport puts it in.
    message = sms_queue(
        to=actor.phone,
        body=_code_sms_text(request, SECRET_PLACEHOLDER, actor),
        secret=code,
        send_before=now + timedelta(seconds=limits.CODE_DELIVERY_GRACE_SECONDS),
        user=actor,
        event="signing.code",
        idempotency_key=f"signing-code:{challenge.pk}:{challenge.sends}",
    )
    send = SigningCodeSend.objects.create(
        challenge=challenge, phone=actor.phone, created_at=now, outbox_message=message
    )
    audit_record(
        action="signing.code_resent" if resent else "signing.code_sent",
        actor=actor,
        obj=request,
        changes={
            "challenge": challenge.pk,
            "sms": challenge.sends,
            "phone": limits.mask_phone(actor.phone),
            "content_hash": request.content_hash,
        },
    )
    return CodeSent(challenge=challenge, send=send, resent=resent)


def _code_sms_text(request, code: str, user) -> str:
    """What the SMS says is being signed: amount and payee for a transfer, the title otherwise."""
    with translation.override(language(user)):
        if request.kind == Kind.FUND_TRANSFER:
            return _(
                "Partnerzone: code %(code)s signs your transfer of %(amount)s to %(payee)s. Valid for 5 minutes. Never share this code."
            ) % {
                "code": code,
                "amount": f"{number_format(request.amount, 2)} {request.currency}",
                "payee": Truncator(request.payee_name).chars(40),
            }
        return _("Partnerzone: code %(code)s signs “%(title)s”. Valid for 5 minutes. Never share this code.") % {
            "code": code,
            "title": Truncator(request.title).chars(60),
        }


def _wrong_code(request, challenge, guard, actor, now) -> CodeRefused:
    """Count a wrong code on the challenge and the client's day; kill or lock at the limits."""
    challenge.failed_attempts += 1
    dead = challenge.failed_attempts >= limits.MAX_WRONG_PER_CHALLENGE
    if dead:
        challenge.status = ChallengeStatus.DEAD
        challenge.ended_at = now
    challenge.save(update_fields=["failed_attempts", "status", "ended_at"])
    if dead:
        code_secrets_destroy([challenge.pk], now)
    SigningFailure.objects.create(challenge=challenge, user=actor, created_at=now)
    failures = SigningFailure.objects.filter(user=actor, created_at__gt=now - limits.WINDOW).count()
    audit_record(
        action="signing.code_wrong",
        actor=actor,
        obj=request,
        changes={"challenge": challenge.pk, "wrong_codes": challenge.failed_attempts, "failures_24h": failures},
    )
    if dead:
        audit_record(
            action="signing.challenge_dead",
            actor=actor,
            obj=request,
            changes={"challenge": challenge.pk, "status": [ChallengeStatus.ACTIVE, ChallengeStatus.DEAD]},
        )
    if failures >= limits.MAX_FAILURES_PER_DAY and not guard.is_locked(now):
        guard.locked_until = now + timedelta(hours=limits.LOCK_HOURS)
        guard.locked_at = now
        guard.save(update_fields=["locked_until", "locked_at"])
        voided = _client_challenges_void(actor, now)
        audit_record(
            action="signing.client_locked",
            actor=actor,
            obj=request,
            changes={
                "locked_until": guard.locked_until.isoformat(),
                "failures_24h": failures,
                "codes_voided": voided,
            },
        )
        _notify_lock(request, actor, guard)
        return CodeRefused(
            _("Wrong code. Signing is now locked until %(until)s; your broker and our back office were told."),
            code="locked",
            params={"until": local(guard.locked_until)},
        )
    if dead:
        return CodeRefused(
            _("Wrong code. This code no longer works after 5 wrong tries; request a new code."), code="challenge_dead"
        )
    remaining = limits.MAX_WRONG_PER_CHALLENGE - challenge.failed_attempts
    return CodeRefused(
        _("Wrong code. %(remaining)d tries left for this code."),
        code="wrong_code",
        params={"remaining": remaining},
        remaining=remaining,
    )


def _client_challenges_void(client, now) -> list[int]:
    """A lock ends every code round of the client: no code of theirs can work before it lapses.

    The caller holds the client's guard, which every code round of theirs takes first.
    """
    ended = list(
        SigningChallenge.objects.filter(user=client, status=ChallengeStatus.ACTIVE)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if ended:
        SigningChallenge.objects.filter(pk__in=ended, status=ChallengeStatus.ACTIVE).update(
            status=ChallengeStatus.VOID, ended_at=now
        )
        code_secrets_destroy(ended, now)
    return ended


def _integrity_refusal(request, actor) -> ValidationError | None:
    """The stored files and fields must still hash to the content the client read; else nobody signs."""
    attachments = list(request.attachments.all())
    for attachment in attachments:
        try:
            with attachment.file.open("rb") as handle:
                actual = file_sha256(handle)
        except OSError:
            actual = ""
        if actual != attachment.sha256:
            return _integrity_problem(request, actor, {"attachment": attachment.name, "expected": attachment.sha256})
    if document_hash(content_document(request, attachments)) != request.content_hash:
        return _integrity_problem(request, actor, {"content_hash": request.content_hash})
    return None


def _integrity_problem(request, actor, details: dict) -> ValidationError:
    logger.error("Signature request %s: stored content does not match its hash: %s", request.pk, details)
    audit_record(action="signing.integrity_failed", actor=actor, obj=request, changes=details)
    return ValidationError(
        _(
            "This request cannot be signed right now because its documents could not be verified. Please contact your broker."
        ),
        code="integrity",
    )


def _sign(request, challenge, actor, now) -> SignatureEvidence:
    challenge.status = ChallengeStatus.USED
    challenge.ended_at = now
    challenge.save(update_fields=["status", "ended_at"])
    code_secrets_destroy([challenge.pk], now)
    old = request.status
    request.status = Status.SIGNED
    request.signed_at = now
    request.save(update_fields=["status", "signed_at"])
    send = _latest_send(challenge)
    message = send.outbox_message if send is not None else None
    ctx = audit_context.current()
    evidence = SignatureEvidence.objects.create(
        request=request,
        signer=actor,
        signer_name=actor.get_full_name() or actor.email,
        signer_email=actor.email,
        signed_at=now,
        ip=ctx.ip if ctx else None,
        user_agent=ctx.user_agent if ctx else "",
        http_request_id=ctx.request_id if ctx else "",
        masked_phone=limits.mask_phone(challenge.phone),
        content_hash=request.content_hash,
        content=content_document(request, list(request.attachments.all())),
        challenge=challenge,
        outbox_message=message,
        sms_message_id=message.provider_message_id if message is not None else "",
    )
    audit_record(
        action="signing.request_signed",
        actor=actor,
        obj=request,
        changes={
            "status": [old, Status.SIGNED],
            "challenge": challenge.pk,
            "content_hash": request.content_hash,
            "evidence": evidence.pk,
        },
    )
    notify_sender(request, "signing.request_signed", key=f"signing:{request.pk}:signed")
    signed_request_inbox_open(request)
    for user in backoffice_users():
        notify(
            user=user,
            event="signing.backoffice_received",
            context=notice_context(request),
            link=reverse("signing:backoffice-detail", args=[request.pk]),
            idempotency_key=f"signing:{request.pk}:backoffice:{user.pk}",
        )
    request_pk = request.pk

    def finalise():
        from ..tasks import signed_request_finalise

        try:
            signed_request_finalise.delay(request_pk)
        except Exception:  # the sweep renders what is missing once the broker is back
            logger.warning("Could not queue the signed PDF for request %s", request_pk, exc_info=True)

    transaction.on_commit(finalise)
    events.send_on_commit(events.request_signed, request)
    return evidence


def _notify_lock(request, client, guard) -> None:
    context = {**notice_context(request), "client": client, "locked_until": guard.locked_until}
    for user in [request.sender, *backoffice_users()]:
        link = (
            reverse("signing:backoffice-detail", args=[request.pk])
            if user.has_role(Role.BACKOFFICE)
            else reverse("signing:request-detail", args=[request.pk])
        )
        notify(
            user=user,
            event="signing.client_locked",
            context=context,
            link=link,
            idempotency_key=f"signing:lock:{client.pk}:{guard.locked_at.isoformat()}:{user.pk}",
        )
