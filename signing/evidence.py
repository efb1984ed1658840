"""The evidence pack of a signed request: registered with the kernel's evidence registry in ready().

Back office and compliance build it (the policy's `evidence` action: signed requests only). The
summary says what was signed, by whom, when and from where, as the signature evidence recorded it;
the documents are the signed PDF, the canonical content that was hashed, and every attachment.
"""

import json

from django.utils.translation import gettext_lazy as _

from portal.core.templatetags.portal_format import money
from portal.evidence.registry import EvidenceFile, register_evidence_kind

from .models import SignatureRequest
from .permissions import requests
from .validators import iban_display


def _person(user) -> str:
    if user is None:
        return ""
    name = user.get_full_name()
    return f"{name} <{user.email}>" if name else user.email


def _read(fieldfile) -> bytes:
    with fieldfile.open("rb") as handle:
        return handle.read()


def _evidence_of(request: SignatureRequest):
    return getattr(request, "evidence", None) if request.is_signed else None


def can_build(actor, request: SignatureRequest) -> bool:
    return requests.has(actor, request, "evidence")


def summary(request: SignatureRequest) -> list[tuple]:
    evidence = _evidence_of(request)
    rows = [
        (_("Reference"), f"{request.short_reference} ({request.uuid})"),
        (_("Title"), request.title),
        (_("Type"), request.get_kind_display()),
        (_("Status"), request.get_status_display()),
        (_("Client"), f"{request.recipient_label} · {_person(request.recipient)}"),
        (_("Sent by"), _person(request.sender)),
        (_("Firm"), str(request.organisation) if request.organisation_id else ""),
        (_("Written"), request.created_at),
        (_("Sent"), request.sent_at),
        (_("Opened by the client"), request.viewed_at),
    ]
    if request.amount is not None:
        rows.append((_("Amount"), money(request.amount, request.currency)))
    if request.payee_name:
        rows.append((_("Payee"), f"{request.payee_name} · {iban_display(request.payee_iban)}"))
    if request.product_name:
        rows.append((_("Product"), request.product_name))
    rows.append((_("Content hash"), request.content_hash))
    if evidence is not None:
        rows += [
            (_("Signed"), evidence.signed_at),
            (_("Signed by"), f"{evidence.signer_name} <{evidence.signer_email}>"),
            (_("From IP address"), evidence.ip or ""),
            (_("Device (user agent)"), evidence.user_agent),
            (_("Request id"), evidence.http_request_id),
            (_("Code sent to"), evidence.masked_phone),
            (_("SMS provider message id"), evidence.sms_message_id),
            (_("Signed content hash"), evidence.content_hash),
            (_("Signed PDF SHA-256"), evidence.pdf_sha256 or _("not made yet")),
        ]
    if request.handled_at:
        rows += [
            (_("Handled by the back office"), request.handled_at),
            (_("Handled by"), _person(request.handled_by)),
            (_("Back-office comment"), request.handling_comment),
        ]
    return rows


def documents(request: SignatureRequest) -> list[EvidenceFile]:
    evidence = _evidence_of(request)
    files = []
    if evidence is not None:
        if evidence.pdf:
            files.append(
                EvidenceFile(f"{request.short_reference}-signed.pdf", _read(evidence.pdf), str(_("Signed PDF")))
            )
        content = json.dumps(evidence.content, ensure_ascii=False, indent=2, sort_keys=True).encode()
        files.append(
            EvidenceFile(
                f"{request.short_reference}-signed-content.json", content, str(_("The signed content that was hashed"))
            )
        )
    for attachment in request.attachments.all():
        files.append(
            EvidenceFile(
                attachment.download_name,
                _read(attachment.file),
                str(_("Attachment (SHA-256 at upload %(sha256)s)") % {"sha256": attachment.sha256}),
            )
        )
    return files


def related(request: SignatureRequest) -> list:
    evidence = _evidence_of(request)
    return [evidence] if evidence is not None else []


def register() -> None:
    register_evidence_kind(
        SignatureRequest,
        label=_("Signed request"),
        can_build=can_build,
        summary=summary,
        documents=documents,
        related=related,
    )
