"""The signed PDF: rendered once by WeasyPrint after the signature, and checked against the evidence.

Rendering goes through `portal.pdf`, which fetches nothing (only `data:` URLs; the template
carries its styles inline). The PDF names the request in its file identifier (the trailer's
/ID), which is how a copy that was changed is still recognised as claiming to be one of ours.
"""

import hashlib
import logging
import re
from dataclasses import dataclass, field

from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from portal.audit.services import audit_record
from portal.notifications.models import OutboxMessage
from portal.pdf import pdf_from_html

from .content import content_document, document_hash, file_sha256, fingerprint
from .models import SignatureEvidence, SignatureRequest
from .validators import iban_display

logger = logging.getLogger(__name__)

_ID_RE = re.compile(rb"/ID\s*\[\s*[(<]([0-9a-fA-F]{32})[)>]")


def signed_pdf_render(*, request_id: int) -> SignatureEvidence:
    """Render and store the signed PDF unless it exists; safe to run any number of times at once."""
    evidence = SignatureEvidence.objects.select_related("request", "request__sender", "request__organisation").get(
        request_id=request_id
    )
    if evidence.pdf:
        return evidence
    if not evidence.sms_message_id and evidence.outbox_message_id:
        # The worker may have recorded Twilio's id only after the client typed the code.
        provider_id = (
            OutboxMessage.objects.filter(pk=evidence.outbox_message_id)
            .values_list("provider_message_id", flat=True)
            .first()
        )
        if provider_id:
            SignatureEvidence.objects.filter(pk=evidence.pk, sms_message_id="").update(sms_message_id=provider_id)
            evidence.sms_message_id = provider_id
    request = evidence.request
    language = request.recipient.language or "en"
    with translation.override(language):
        html = render_to_string("signing/pdf/signed_request.html", _pdf_context(request, evidence))
    data = pdf_from_html(html, identifier=request.uuid.hex.encode())
    digest = hashlib.sha256(data).hexdigest()
    storage = SignatureEvidence.pdf.field.storage
    name = storage.save(SignatureEvidence.pdf.field.generate_filename(evidence, "signed.pdf"), ContentFile(data))
    with transaction.atomic():
        stored = SignatureEvidence.objects.filter(pk=evidence.pk, pdf="").update(
            pdf=name, pdf_sha256=digest, pdf_rendered_at=timezone.now()
        )
        if stored:
            audit_record(
                action="signing.pdf_rendered",
                obj=request,
                actor_label="system",
                changes={"pdf_sha256": digest, "bytes": len(data)},
            )
    if not stored:
        storage.delete(name)  # another run stored its copy first
    evidence.refresh_from_db()
    return evidence


def _pdf_context(request: SignatureRequest, evidence: SignatureEvidence) -> dict:
    content = evidence.content
    return {
        "request": request,
        "evidence": evidence,
        "content": content,
        "transfer": content.get("transfer"),
        "subscription": content.get("subscription"),
        "iban": iban_display(content["transfer"]["payee_iban"]) if content.get("transfer") else "",
        "attachments": content["attachments"],
        "fingerprint": fingerprint(evidence.content_hash),
        "signed_at": timezone.localtime(evidence.signed_at),
        "rendered_at": timezone.localtime(),
    }


# --- verification --------------------------------------------------------------------------


@dataclass
class Verification:
    """The answer for one PDF: intact, changed, ours but with stored evidence that no longer agrees, or unknown."""

    INTACT = "intact"
    TAMPERED = "tampered"
    MISMATCH = "evidence_mismatch"
    UNKNOWN = "unknown"

    outcome: str
    sha256: str
    request: SignatureRequest | None = None
    evidence: SignatureEvidence | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return self.outcome == self.INTACT


def signed_pdf_verify(data: bytes) -> Verification:
    """Check a PDF against the stored evidence: byte-identical to the one rendered, and the evidence consistent."""
    digest = hashlib.sha256(data).hexdigest()
    evidence = (
        SignatureEvidence.objects.select_related("request", "request__recipient").filter(pdf_sha256=digest).first()
    )
    if evidence is None:
        match = _ID_RE.search(data[-4096:]) or _ID_RE.search(data)
        request = None
        if match:
            request = SignatureRequest.objects.filter(uuid=match.group(1).decode().lower()).first()
        if request is not None and hasattr(request, "evidence"):
            return Verification(Verification.TAMPERED, digest, request, request.evidence, ["file_changed"])
        return Verification(Verification.UNKNOWN, digest)
    problems = evidence_problems(evidence)
    outcome = Verification.MISMATCH if problems else Verification.INTACT
    return Verification(outcome, digest, evidence.request, evidence, problems)


def evidence_problems(evidence: SignatureEvidence) -> list[str]:
    """Where the stored request, its files or the evidence no longer agree with what was signed."""
    problems = []
    request = evidence.request
    if document_hash(evidence.content) != evidence.content_hash:
        problems.append("evidence_content")
    attachments = list(request.attachments.all())
    if document_hash(content_document(request, attachments)) != evidence.content_hash:
        problems.append("request_content")
    for attachment in attachments:
        try:
            with attachment.file.open("rb") as handle:
                if file_sha256(handle) != attachment.sha256:
                    problems.append(f"attachment:{attachment.name}")
        except OSError:
            problems.append(f"attachment_missing:{attachment.name}")
    if evidence.pdf:
        try:
            with evidence.pdf.open("rb") as handle:
                if file_sha256(handle) != evidence.pdf_sha256:
                    problems.append("stored_pdf")
        except OSError:
            problems.append("stored_pdf_missing")
    return problems
