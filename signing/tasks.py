"""Thin Celery tasks: they take ids and call services that do only the work still missing.

A transient error retries with backoff; a PDF that still could not be stored (disk, permissions)
is rendered by the next sweep, which looks for signed requests without one.
"""

from celery import shared_task

from portal.core.task_retry import RETRY_BACKOFF_MAX, TRANSIENT_ERRORS

from . import pdf, services
from .models import SignatureEvidence


@shared_task(
    bind=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=True,
    retry_backoff_max=RETRY_BACKOFF_MAX,
    retry_jitter=True,
    max_retries=8,
    ignore_result=True,
)
def signed_request_finalise(self, request_id: int) -> str:
    """Render the signed PDF (once); signing already destroyed the code in the outbox copy of its SMS."""
    evidence = pdf.signed_pdf_render(request_id=request_id)
    return evidence.pdf_sha256


@shared_task(
    bind=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=True,
    retry_backoff_max=RETRY_BACKOFF_MAX,
    retry_jitter=True,
    max_retries=2,
    ignore_result=True,
)
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
