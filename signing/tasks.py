"""Thin Celery tasks: they take ids and call services that do only the work still missing.

A transient error retries with backoff; a PDF that still could not be stored (disk, permissions)
is rendered by the next sweep, which looks for signed requests without one.
"""

from portal.core.task_retry import retrying_task

from . import pdf, services
from .models import SignatureEvidence


@retrying_task(max_retries=8, ignore_result=True)
def signed_request_finalise(self, request_id: int) -> str:
    """Render the signed PDF (once); signing already destroyed the code in the outbox copy of its SMS."""
    evidence = pdf.signed_pdf_render(request_id=request_id)
    return evidence.pdf_sha256


@retrying_task(max_retries=2, ignore_result=True)
def signing_sweep(self) -> dict[str, int]:
    """Every few minutes: expire overdue requests, end stale code rounds, render PDFs a crash left out."""
    missing = list(SignatureEvidence.objects.filter(pdf="").values_list("request_id", flat=True)[:100])
    for request_id in missing:
        pdf.signed_pdf_render(request_id=request_id)
    return {
        "expired": services.signature_requests_expire(),
        "codes_expired": services.signing_challenges_expire_stale(),
        "rendered": len(missing),
    }
