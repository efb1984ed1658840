"""The sender's side: write, change, send and cancel a request, add and remove attachments."""

import logging
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from portal.audit.services import audit_record
from portal.core import uploads
from portal.notifications.services import E164_RE

from .. import addressbook, events, permissions
from ..content import file_sha256, request_content_hash
from ..models import (
    SignatureAttachment,
    SignatureRequest,
)
from ..validators import CURRENCIES, iban_validate
from .common import MAX_TEXT, ChallengeStatus, Kind, Status, answer_load, challenges_end, jsonable, notify_client

logger = logging.getLogger(__name__)


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
        answer_load(request)
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
            name: [jsonable(getattr(request, name)), jsonable(value)]
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
        if recipient.phone_verified_at is None:
            raise ValidationError(
                _(
                    "%(client)s has not verified their mobile number, so they cannot receive the signing code. Ask them to verify it under Profile in their client zone, then send the request."
                ),
                code="phone_unverified",
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
        notify_client(request, "signing.request_received", key=f"signing:{request.pk}:received")
        events.send_on_commit(events.request_sent, request)
        answer_load(request)
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
        ended = challenges_end(request, ChallengeStatus.VOID)
        audit_record(
            action="signing.request_cancelled",
            actor=actor,
            obj=request,
            changes={"status": [old, Status.CANCELLED], "reason": reason, "codes_voided": ended},
        )
        if old != Status.DRAFT:
            notify_client(request, "signing.request_cancelled", key=f"signing:{request.pk}:cancelled")
        events.send_on_commit(events.request_cancelled, request)
        answer_load(request)
    return request


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
    ended = challenges_end(request, ChallengeStatus.VOID)
    audit_changes = {**changes, "content_hash": [old_hash, request.content_hash], "version": request.version}
    if request.status != old_status:
        audit_changes["status"] = [old_status, request.status]
    if ended:
        audit_changes["codes_voided"] = ended
    audit_record(action=action, actor=actor, obj=request, changes=audit_changes)
    if request.status != Status.DRAFT:
        notify_client(request, "signing.request_changed", key=f"signing:{request.pk}:changed:{request.version}")


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


def _ensure_editable(request) -> None:
    if not request.is_editable:
        raise ValidationError(
            _("This request is %(status)s and can no longer be changed."),
            code="not_editable",
            params={"status": request.get_status_display()},
        )
