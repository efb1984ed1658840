"""Writes: write, change, send, cancel, read, code, sign, decline, hand over, expire.

Each function takes keyword arguments, runs in one transaction, re-checks permission and
state on the locked rows inside it, appends an audit event for every state change, writes
notifications (outbox rows) in the same transaction, and sends signals after the commit.
A refusal raises ValidationError (a translated message and a code) or PermissionDenied; a
foreign request raises Http404, as it does not exist for the actor.

Code rounds and signing lock the client's `SigningGuard` row first, then the request, then
the challenge, so every counter of one client changes one request at a time; refusals that
count (a wrong code) are committed before they are raised.
"""

import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import prefetch_related_objects
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from portal.accounts.roles import Role
from portal.audit import context as audit_context
from portal.audit.services import audit_record
from portal.core import uploads
from portal.core.templatetags.portal_format import number_format
from portal.notifications.sealed import PLACEHOLDER as SECRET_PLACEHOLDER
from portal.notifications.services import E164_RE, notify, outbox_secret_destroy, sms_queue

from . import addressbook, events, limits, permissions
from .content import content_document, document_hash, file_sha256, request_content_hash
from .models import (
    SignatureAttachment,
    SignatureEvidence,
    SignatureRequest,
    SigningChallenge,
    SigningCodeSend,
    SigningFailure,
    SigningGuard,
    SigningPhoneGuard,
)
from .validators import CURRENCIES, iban_validate

logger = logging.getLogger(__name__)

Status = SignatureRequest.Status
Kind = SignatureRequest.Kind
ChallengeStatus = SigningChallenge.Status

# What a request may carry: documents and scans (the kernel decides the kind by content).
ATTACHMENT_KINDS = (uploads.PDF, uploads.PNG, uploads.JPEG)

# The fields a sender writes; which of them a kind uses is decided in _fields_clean.
CONTENT_FIELDS = (
    "title",
    "message",
    "amount",
    "currency",
    "portfolio_reference",
    "portfolio_label",
    "payee_name",
    "payee_iban",
    "payment_reference",
    "product_name",
)
MAX_TEXT = 5000


class CodeRefused(ValidationError):
    """The code was not accepted; `remaining` wrong tries are left on this challenge."""

    def __init__(self, message, *, code, remaining: int = 0, params=None):
        super().__init__(message, code=code, params=params)
        self.remaining = remaining


# --- writing and changing requests (sender's side) ------------------------------------------


def signature_request_create(
    *,
    actor,
    recipient: str,
    kind: str,
    attachments=(),
    origin: str = "",
    external_reference: str = "",
    **fields,
) -> SignatureRequest:
    """A draft for one person of the actor's address book; attachments are checked by content first."""
    if not permissions.can_write_requests(actor):
        raise PermissionDenied
    if kind not in Kind.values:
        raise ValidationError({"kind": [_("Choose the type of request.")]}, code="kind")
    person, book = addressbook.addressee_get(actor=actor, key=str(recipient))
    if person is None:
        raise ValidationError({"recipient": [_("Choose one of your clients.")]}, code="recipient")
    accounts = book.accounts(actor=actor, key=person.key) if kind != Kind.DOCUMENT else []
    cleaned = _fields_clean(kind=kind, data=fields, accounts=accounts)
    attachments = list(attachments)
    _attachments_count_check(existing=0, adding=len(attachments))
    checked = _uploads_check(attachments)
    now = timezone.now()
    with transaction.atomic():
        request = SignatureRequest.objects.create(
            kind=kind,
            sender=actor,
            organisation_id=actor.organisation_id,
            recipient_id=person.user_id,
            recipient_key=person.key,
            recipient_label=person.label[:200],
            origin=origin[:64],
            external_reference=str(external_reference)[:100],
            created_at=now,
            updated_at=now,
            **cleaned,
        )
        for upload, file_kind in checked:
            _attachment_store(request, upload, file_kind)
        # Loaded once here: the content hash, the audit event and the API's answer all use it.
        _answer_load(request)
        request.content_hash = request_content_hash(request)
        request.save(update_fields=["content_hash"])
        audit_record(
            action="signing.request_created",
            actor=actor,
            obj=request,
            changes={
                "status": [None, Status.DRAFT],
                "kind": kind,
                "recipient": person.label,
                "attachments": [a.name for a in request.attachments.all()],
                "content_hash": request.content_hash,
            },
        )
    return request


def signature_request_update(*, actor, request_id, recipient: str | None = None, **fields) -> SignatureRequest:
    """Change the content; after sending, the client's code is void and they must read it again."""
    unknown = set(fields) - set(CONTENT_FIELDS)
    if unknown:
        raise TypeError(f"Unknown fields: {sorted(unknown)}")
    with transaction.atomic():
        request = _sender_side_for_update(actor, request_id)
        _ensure_editable(request)
        person = None
        if recipient is not None and str(recipient) != request.recipient_key:
            if request.status != Status.DRAFT:
                raise ValidationError(
                    {
                        "recipient": [
                            _("The client of a sent request cannot be changed; cancel it and write a new one.")
                        ]
                    },
                    code="recipient_fixed",
                )
            person, _book = addressbook.addressee_get(actor=actor, key=str(recipient))
            if person is None:
                raise ValidationError({"recipient": [_("Choose one of your clients.")]}, code="recipient")
        key = person.key if person is not None else request.recipient_key
        accounts = addressbook.account_list(actor=actor, key=key) if request.kind != Kind.DOCUMENT else []
        merged = {name: getattr(request, name) for name in CONTENT_FIELDS} | fields
        cleaned = _fields_clean(kind=request.kind, data=merged, accounts=accounts)
        changes = {
            name: [_jsonable(getattr(request, name)), _jsonable(value)]
            for name, value in cleaned.items()
            if getattr(request, name) != value
        }
        if person is not None:
            changes["recipient"] = [request.recipient_label, person.label]
            request.recipient_id, request.recipient_key, request.recipient_label = (
                person.user_id,
                person.key,
                person.label[:200],
            )
        if not changes:
            return request
        for name, value in cleaned.items():
            setattr(request, name, value)
        _content_changed(request, actor=actor, action="signing.request_changed", changes=changes)
    return request


def signature_attachment_add(*, actor, request_id, upload) -> SignatureAttachment:
    # The file is read before the row is locked (a large PDF is read in a child process that can
    # take seconds); who may add one is asked first all the same, and again on the locked row.
    _sender_side(actor, request_id)
    [(upload, file_kind)] = _uploads_check([upload])
    with transaction.atomic():
        request = _sender_side_for_update(actor, request_id)
        _ensure_editable(request)
        _attachments_count_check(existing=request.attachments.count(), adding=1)
        attachment = _attachment_store(request, upload, file_kind)
        _content_changed(
            request,
            actor=actor,
            action="signing.attachment_added",
            changes={"attachment": attachment.name, "sha256": attachment.sha256},
        )
    return attachment


def signature_attachment_remove(*, actor, request_id, attachment_id) -> None:
    with transaction.atomic():
        request = _sender_side_for_update(actor, request_id)
        _ensure_editable(request)
        try:
            attachment = request.attachments.get(pk=attachment_id)
        except (SignatureAttachment.DoesNotExist, ValueError, TypeError):
            raise Http404 from None
        name, sha256, stored = attachment.name, attachment.sha256, attachment.file.name
        attachment.delete()
        _content_changed(
            request, actor=actor, action="signing.attachment_removed", changes={"attachment": name, "sha256": sha256}
        )
        transaction.on_commit(lambda: SignatureAttachment.file.field.storage.delete(stored))


def signature_request_send(*, actor, request_id) -> SignatureRequest:
    """Send a draft to the client: they are notified and can read and sign it until the deadline."""
    with transaction.atomic():
        request = _sender_side_for_update(actor, request_id)
        if request.status != Status.DRAFT:
            raise ValidationError(_("Only a draft can be sent."), code="not_draft")
        person, _book = addressbook.addressee_get(actor=actor, key=request.recipient_key)
        if person is None or person.user_id != request.recipient_id:
            raise ValidationError(
                _("You can no longer send requests to %(client)s."),
                code="recipient",
                params={"client": request.recipient_label},
            )
        recipient = request.recipient
        if not recipient.is_active:
            raise ValidationError(_("The client's login is deactivated."), code="recipient_inactive")
        if not E164_RE.match(recipient.phone or ""):
            raise ValidationError(
                _(
                    "%(client)s has no mobile number for the signing code; ask the back office to add one to the client's login."
                ),
                code="no_phone",
                params={"client": request.recipient_label},
            )
        now = timezone.now()
        request.status = Status.SENT
        request.sent_at = now
        request.expires_at = now + timedelta(days=settings.SIGNING_REQUEST_VALID_DAYS)
        request.save(update_fields=["status", "sent_at", "expires_at"])
        audit_record(
            action="signing.request_sent",
            actor=actor,
            obj=request,
            changes={
                "status": [Status.DRAFT, Status.SENT],
                "expires_at": request.expires_at.isoformat(),
                "content_hash": request.content_hash,
            },
        )
        _notify_client(request, "signing.request_received", key=f"signing:{request.pk}:received")
        events.send_on_commit(events.request_sent, request)
        _answer_load(request)
    return request


def signature_request_cancel(*, actor, request_id, reason: str = "") -> SignatureRequest:
    reason = (reason or "").strip()
    if len(reason) > MAX_TEXT:
        raise ValidationError({"reason": [_("Keep the reason under %(max)d characters.") % {"max": MAX_TEXT}]})
    with transaction.atomic():
        request = _sender_side_for_update(actor, request_id)
        if request.status not in SignatureRequest.EDITABLE:
            raise ValidationError(_("Only a request that is not signed yet can be cancelled."), code="not_open")
        old = request.status
        request.status = Status.CANCELLED
        request.cancelled_at = timezone.now()
        request.cancel_reason = reason
        request.save(update_fields=["status", "cancelled_at", "cancel_reason"])
        ended = _challenges_end(request, ChallengeStatus.VOID)
        audit_record(
            action="signing.request_cancelled",
            actor=actor,
            obj=request,
            changes={"status": [old, Status.CANCELLED], "reason": reason, "codes_voided": ended},
        )
        if old != Status.DRAFT:
            _notify_client(request, "signing.request_cancelled", key=f"signing:{request.pk}:cancelled")
        events.send_on_commit(events.request_cancelled, request)
        _answer_load(request)
    return request


# --- the client's side -----------------------------------------------------------------------


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
            _expire(request)
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


@dataclass(frozen=True)
class CodeSent:
    challenge: SigningChallenge
    send: SigningCodeSend
    resent: bool


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
        if refusal is None:
            challenge = _active_challenge(request)
            if challenge is not None and (
                challenge.content_hash != request.content_hash or challenge.phone != actor.phone
            ):
                _challenge_end(challenge, ChallengeStatus.VOID, now, actor=actor)
                challenge = None
            if challenge is not None and now >= _valid_until(challenge):
                _challenge_end(challenge, ChallengeStatus.EXPIRED, now, actor=actor)
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
            _challenge_end(challenge, ChallengeStatus.VOID, now, actor=actor)
            refusal = _content_changed_refusal()
        if refusal is None and now >= _valid_until(challenge):
            _challenge_end(challenge, ChallengeStatus.EXPIRED, now, actor=actor)
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
            _expire(request)
            refusal = _not_open_refusal(request)
        else:
            old = request.status
            request.status = Status.DECLINED
            request.declined_at = timezone.now()
            request.decline_reason = reason
            request.save(update_fields=["status", "declined_at", "decline_reason"])
            ended = _challenges_end(request, ChallengeStatus.VOID)
            audit_record(
                action="signing.request_declined",
                actor=actor,
                obj=request,
                changes={"status": [old, Status.DECLINED], "reason": reason, "codes_voided": ended},
            )
            _notify_sender(request, "signing.request_declined", key=f"signing:{request.pk}:declined")
            events.send_on_commit(events.request_declined, request)
    if refusal is not None:
        raise refusal
    return request


# --- the back office -------------------------------------------------------------------------

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
        _notify_sender(request, f"signing.request_{outcome}", key=f"signing:{request.pk}:{outcome}")
        events.send_on_commit(events.request_handled, request)
    return request


# --- periodic work ---------------------------------------------------------------------------


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
                _expire(request)
                expired += 1
    return expired


def signing_challenges_expire_stale(*, now=None, batch: int = 500) -> int:
    """Code rounds whose code cannot be valid any more end (the client walked away); returns how many.

    Ending a round destroys its SMS secrets (see `_code_secrets_destroy`); every other way a round
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
                _code_secrets_destroy([challenge.pk], now)
                audit_record(
                    action="signing.challenge_expired",
                    obj=challenge.request,
                    actor_label="system",
                    changes={"challenge": challenge.pk, "status": [ChallengeStatus.ACTIVE, ChallengeStatus.EXPIRED]},
                )
                expired += 1
    return expired


# --- internals -------------------------------------------------------------------------------


def _fields_clean(*, kind: str, data: dict, accounts) -> dict:
    """The content fields for this kind, checked and normalised; the others are blank."""
    errors: dict[str, list[str]] = {}
    values = {name: "" for name in CONTENT_FIELDS}
    values["amount"] = None

    def text(name, *, required=False, max_length=200, message=None):
        value = str(data.get(name) or "").strip()
        if required and not value:
            errors.setdefault(name, []).append(message or _("This field is required."))
        elif len(value) > max_length:
            errors.setdefault(name, []).append(_("Keep this under %(max)d characters.") % {"max": max_length})
        return value

    values["title"] = text("title", max_length=200)
    values["message"] = text(
        "message",
        max_length=MAX_TEXT,
        required=kind == Kind.DOCUMENT,
        message=_("Write what the client is asked to sign."),
    )
    if kind in (Kind.FUND_TRANSFER, Kind.PRODUCT_SUBSCRIPTION):
        values["amount"] = _amount_clean(data.get("amount"), errors)
        currency = str(data.get("currency") or "").strip().upper()
        if currency not in CURRENCIES:
            errors.setdefault("currency", []).append(_("Choose a currency."))
        values["currency"] = currency
        reference = str(data.get("portfolio_reference") or "").strip()
        account = next((a for a in accounts if a.reference == reference), None)
        if account is None:
            errors.setdefault("portfolio_reference", []).append(_("Choose one of the client's portfolios."))
        else:
            values["portfolio_reference"], values["portfolio_label"] = account.reference, account.label[:200]
    if kind == Kind.FUND_TRANSFER:
        values["payee_name"] = text("payee_name", required=True, max_length=140)
        try:
            values["payee_iban"] = iban_validate(str(data.get("payee_iban") or ""))
        except ValidationError as exc:
            errors.setdefault("payee_iban", []).extend(exc.messages)
        values["payment_reference"] = text("payment_reference", max_length=140)
        if not values["title"] and values["payee_name"] and values["amount"] is not None:
            values["title"] = Truncator(
                _("Transfer of %(amount)s %(currency)s to %(payee)s")
                % {"amount": f"{values['amount']:.2f}", "currency": values["currency"], "payee": values["payee_name"]}
            ).chars(200)
    elif kind == Kind.PRODUCT_SUBSCRIPTION:
        values["product_name"] = text("product_name", required=True, max_length=200)
        if not values["title"] and values["product_name"]:
            values["title"] = Truncator(_("Subscription: %(product)s") % {"product": values["product_name"]}).chars(200)
    # A transfer or subscription gets a title from its fields; ask for one only when those are fine.
    if not values["title"] and "title" not in errors and (kind == Kind.DOCUMENT or not errors):
        errors["title"] = [_("Give the request a title.")]
    if errors:
        raise ValidationError(errors)
    return values


def _amount_clean(raw, errors) -> Decimal | None:
    try:
        amount = Decimal(str(raw).strip().replace(" ", "")) if raw not in (None, "") else None
    except InvalidOperation:
        amount = None
        errors.setdefault("amount", []).append(_("Enter an amount such as 1250.00."))
        return None
    if amount is None:
        errors.setdefault("amount", []).append(_("Enter the amount."))
    elif not amount.is_finite() or amount <= 0:
        errors.setdefault("amount", []).append(_("The amount must be more than zero."))
        amount = None
    elif amount != amount.quantize(Decimal("0.01")) or amount >= Decimal("1e18"):
        errors.setdefault("amount", []).append(_("Enter an amount with at most two decimal places."))
        amount = None
    return amount


def _attachments_count_check(*, existing: int, adding: int) -> None:
    if existing + adding > settings.SIGNING_MAX_ATTACHMENTS:
        raise ValidationError(
            {
                "attachments": [
                    _("A request can have at most %(max)d attachments.") % {"max": settings.SIGNING_MAX_ATTACHMENTS}
                ]
            },
            code="too_many",
        )


def _uploads_check(files) -> list:
    """Every upload's kind by content, and its size; any bad one refuses all of them."""
    checked, errors = [], []
    too_large = None
    for upload in files:
        try:
            kind = uploads.upload_check(upload, kinds=ATTACHMENT_KINDS, max_bytes=settings.SIGNING_MAX_ATTACHMENT_BYTES)
        except uploads.UploadTooLarge as exc:
            too_large = exc
            errors.extend(exc.messages)
        except ValidationError as exc:
            errors.extend(exc.messages)
        else:
            checked.append((upload, kind))
    if too_large is not None:
        raise uploads.UploadTooLarge({"attachments": errors}, code="too_large")
    if errors:
        raise ValidationError({"attachments": errors}, code="attachment")
    return checked


def _attachment_store(request, upload, file_kind) -> SignatureAttachment:
    """Stored under a random name; shown under the uploader's name with the extension of what it is."""
    sha256 = file_sha256(upload)
    upload.seek(0)
    attachment = SignatureAttachment(
        request=request,
        name=uploads.upload_display_name(upload.name, file_kind),
        content_type=file_kind.content_type,
        size=upload.size,
        sha256=sha256,
    )
    attachment.file.save(uploads.upload_stored_name(file_kind), upload, save=False)
    attachment.save()
    return attachment


def _content_changed(request, *, actor, action: str, changes: dict) -> None:
    """New content: new hash and version; a sent request must be read again before it can be signed."""
    old_hash, old_status = request.content_hash, request.status
    request.content_hash = request_content_hash(request)
    request.version += 1
    request.updated_at = timezone.now()
    if request.status == Status.VIEWED:
        request.status = Status.SENT
    request.save()
    ended = _challenges_end(request, ChallengeStatus.VOID)
    audit_changes = {**changes, "content_hash": [old_hash, request.content_hash], "version": request.version}
    if request.status != old_status:
        audit_changes["status"] = [old_status, request.status]
    if ended:
        audit_changes["codes_voided"] = ended
    audit_record(action=action, actor=actor, obj=request, changes=audit_changes)
    if request.status != Status.DRAFT:
        _notify_client(request, "signing.request_changed", key=f"signing:{request.pk}:changed:{request.version}")


def _answer_load(request) -> None:
    """Load, inside the transaction, what an answer about the request shows (sender, attachments, evidence).

    The API answers from the object a service returns. A query for it after the commit could fail on
    a lost connection and turn a request that was made into a 500, which invites the client to send
    it again.
    """
    prefetch_related_objects([request], "sender", "attachments", "evidence")


def _sender_side_for_update(actor, request_id) -> SignatureRequest:
    return _sender_side(actor, request_id, rows=SignatureRequest.objects.select_for_update())


def _sender_side(actor, request_id, *, rows=None) -> SignatureRequest:
    """A request the actor may change: 404 if it is not theirs to see, 403 if they may only read it."""
    rows = SignatureRequest.objects.all() if rows is None else rows
    try:
        request = rows.restrict(actor, "follow").get(pk=request_id)
    except (SignatureRequest.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not permissions.requests.has(actor, request, "change"):
        raise PermissionDenied
    return request


def _client_side_for_update(actor, request_id) -> SignatureRequest:
    rows = SignatureRequest.objects.select_for_update().restrict(actor, "sign")
    try:
        return rows.get(pk=request_id)
    except (SignatureRequest.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def _ensure_editable(request) -> None:
    if not request.is_editable:
        raise ValidationError(
            _("This request is %(status)s and can no longer be changed."),
            code="not_editable",
            params={"status": request.get_status_display()},
        )


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


def _challenge_end(challenge, status: str, now, *, actor) -> None:
    """End one code round (its code no longer works), audited on the request."""
    challenge.status = status
    challenge.ended_at = now
    challenge.save(update_fields=["status", "ended_at"])
    _code_secrets_destroy([challenge.pk], now)
    audit_record(
        action=f"signing.challenge_{status}",
        actor=actor,
        obj=challenge.request,
        changes={"challenge": challenge.pk, "status": [ChallengeStatus.ACTIVE, status]},
    )


def _challenges_end(request, status: str) -> list[int]:
    now = timezone.now()
    ended = list(
        SigningChallenge.objects.filter(request=request, status=ChallengeStatus.ACTIVE).values_list("pk", flat=True)
    )
    if ended:
        SigningChallenge.objects.filter(pk__in=ended).update(status=status, ended_at=now)
        _code_secrets_destroy(ended, now)
    return ended


def _code_secrets_destroy(challenge_ids, now, *, sends=None) -> None:
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


def _open_for_signing(request, guard, now) -> ValidationError | None:
    """Why the client cannot get or use a code now, or None."""
    if request.status not in SignatureRequest.OPEN:
        return _not_open_refusal(request)
    if request.is_past_deadline(now):
        _expire(request)
        return _not_open_refusal(request)
    if guard.is_locked(now):
        return ValidationError(
            _(
                "Signing is locked after too many wrong codes until %(until)s. Your broker and our back office were told."
            ),
            code="locked",
            params={"until": _local(guard.locked_until)},
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
        _code_secrets_destroy([], now, sends=challenge.code_sends.all())
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
    with translation.override(_language(user)):
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
        _code_secrets_destroy([challenge.pk], now)
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
            params={"until": _local(guard.locked_until)},
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
        _code_secrets_destroy(ended, now)
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
    _code_secrets_destroy([challenge.pk], now)
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
    _notify_sender(request, "signing.request_signed", key=f"signing:{request.pk}:signed")
    for user in _backoffice_users():
        notify(
            user=user,
            event="signing.backoffice_received",
            context=_context(request),
            link=reverse("signing:backoffice-detail", args=[request.pk]),
            idempotency_key=f"signing:{request.pk}:backoffice:{user.pk}",
        )
    request_pk = request.pk

    def finalise():
        from .tasks import signed_request_finalise

        try:
            signed_request_finalise.delay(request_pk)
        except Exception:  # the sweep renders what is missing once the broker is back
            logger.warning("Could not queue the signed PDF for request %s", request_pk, exc_info=True)

    transaction.on_commit(finalise)
    events.send_on_commit(events.request_signed, request)
    return evidence


def _expire(request) -> None:
    old = request.status
    request.status = Status.EXPIRED
    request.save(update_fields=["status"])
    ended = _challenges_end(request, ChallengeStatus.VOID)
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
    _notify_sender(request, "signing.request_expired", key=f"signing:{request.pk}:expired")
    events.send_on_commit(events.request_expired, request)


def _notify_lock(request, client, guard) -> None:
    context = {**_context(request), "client": client, "locked_until": guard.locked_until}
    for user in [request.sender, *_backoffice_users()]:
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


def _notify_client(request, event: str, *, key: str) -> None:
    notify(
        user=request.recipient,
        event=event,
        context=_context(request),
        link=reverse("signing:inbox-detail", args=[request.pk]),
        idempotency_key=key,
    )


def _notify_sender(request, event: str, *, key: str) -> None:
    notify(
        user=request.sender,
        event=event,
        context=_context(request),
        link=reverse("signing:request-detail", args=[request.pk]),
        idempotency_key=key,
    )


def _context(request) -> dict:
    return {
        "request": request,
        "sender_name": request.sender.get_full_name() or request.sender.email,
        "client_name": request.recipient.get_full_name() or request.recipient_label,
    }


def _backoffice_users():
    return list(get_user_model().objects.filter(groups__name=Role.BACKOFFICE, is_active=True).distinct().order_by("pk"))


def _language(user) -> str:
    return user.language if user.language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def _local(moment) -> str:
    from django.utils.formats import date_format

    return date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def _jsonable(value):
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return value
