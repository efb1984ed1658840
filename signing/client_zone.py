"""signing's part of the client zone, registered in SigningConfig.ready():

- the home panel "What waits for you": the requests waiting for the client's signature;
- the document source "Signed requests": each signed request with its signed PDF;
- the data-export part "signature_requests": every request sent to the client, with the evidence
  of each signature, and the signed PDFs as files.

signing addresses a person, not a client record (it may not import `clients`), so each function
reads only the record's login (`client.user`) and goes through signing's selectors for that user.
"""

from django.db.models import Count, Window
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.core.client_zone import (
    DataExportPart,
    DocumentSource,
    ExportFile,
    HomePanel,
    ZoneDocument,
    register_document_source,
    register_export_part,
    register_home_panel,
)

from . import selectors
from .services.common import jsonable

PANEL_ROWS = 5


def waiting_panel_context(client, request) -> dict | None:
    """The first few requests waiting for the signed-in client's signature; None (no panel) when none waits."""
    # The first rows and how many wait in all, in one query.
    rows = list(selectors.waiting_list(actor=request.user).annotate(total=Window(Count("pk")))[:PANEL_ROWS])
    if not rows:
        return None
    count = rows[0].total
    return {"requests": rows, "count": count, "more": count > PANEL_ROWS}


def signed_documents(client):
    """The client's signed requests with their signed PDFs, the latest first (read lazily, as the page needs)."""
    if client.user_id is None:
        return
    kind = _("Signed request")
    for request in selectors.signed_list(actor=client.user).iterator(chunk_size=50):
        evidence = request.evidence
        yield ZoneDocument(
            title=request.title,
            kind=kind,
            date=timezone.localdate(evidence.signed_at),
            url=reverse("signing:signed-pdf", args=[request.pk]) + "?download=1",
            is_new=evidence.client_downloaded_at is None,
        )


def export_part(client) -> tuple[list, list[ExportFile]]:
    """Every request sent to the client: what it said, what happened when, the evidence; the signed PDFs as files.

    Only what the client was shown or did: the back office's internal comment and the sender's
    bookkeeping (address book key, origin) stay out.
    """
    if client.user_id is None:
        return [], []
    rows, files = [], []
    for request in selectors.received_list(actor=client.user):
        evidence = getattr(request, "evidence", None)
        pdf_name = None
        if evidence is not None and evidence.pdf:
            pdf_name = f"signed/{request.short_reference}-signed.pdf"
            files.append(ExportFile(name=pdf_name, content=_reader(evidence.pdf)))
        rows.append(
            {
                "reference": request.short_reference,
                "uuid": str(request.uuid),
                "kind": request.kind,
                "title": request.title,
                "status": request.status,
                "sender": request.sender.get_full_name() or request.sender.email,
                "message": request.message,
                "amount": jsonable(request.amount),
                "currency": request.currency,
                "portfolio": request.portfolio_reference,
                "payee_name": request.payee_name,
                "payee_iban": request.payee_iban,
                "payment_reference": request.payment_reference,
                "product_name": request.product_name,
                "content_hash": request.content_hash,
                "sent_at": _iso(request.sent_at),
                "viewed_at": _iso(request.viewed_at),
                "expires_at": _iso(request.expires_at),
                "signed_at": _iso(request.signed_at),
                "declined_at": _iso(request.declined_at),
                "decline_reason": request.decline_reason,
                "cancelled_at": _iso(request.cancelled_at),
                "cancel_reason": request.cancel_reason,
                "handled_at": _iso(request.handled_at),
                "evidence": _evidence(evidence, pdf_name),
            }
        )
    return rows, files


def register() -> None:
    register_home_panel(
        HomePanel(
            key="signing_waiting",
            template="signing/partials/_zone_waiting.html",
            context=waiting_panel_context,
            order=5,
            width="wide",
        )
    )
    register_document_source(
        DocumentSource(
            key="signed_requests",
            label=gettext_lazy("Signed requests"),
            documents=signed_documents,
            order=10,
            empty_text=gettext_lazy("Requests you sign appear here with their signed PDF."),
        )
    )
    register_export_part(DataExportPart(key="signature_requests", build=export_part, order=30))


def _evidence(evidence, pdf_name) -> dict | None:
    if evidence is None:
        return None
    return {
        "signed_at": _iso(evidence.signed_at),
        "signer_name": evidence.signer_name,
        "signer_email": evidence.signer_email,
        "mobile_phone": evidence.masked_phone,
        "ip": evidence.ip,
        "user_agent": evidence.user_agent,
        "content_hash": evidence.content_hash,
        "signed_pdf": pdf_name,
        "signed_pdf_sha256": evidence.pdf_sha256 or None,
    }


def _reader(fieldfile):
    def read() -> bytes:
        with fieldfile.open("rb") as stored:
            return stored.read()

    return read


def _iso(moment) -> str | None:
    return moment.isoformat() if moment is not None else None
