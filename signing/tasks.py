"""Thin Celery tasks: they take ids and call services that do only the work still missing."""

from celery import shared_task

from . import pdf, services
from .models import SignatureEvidence


@shared_task(ignore_result=True, autoretry_for=(OSError,), retry_backoff=30, retry_backoff_max=3600, max_retries=8)
def signed_request_finalise(request_id: int) -> str:
    """Render the signed PDF (once); signing already destroyed the code in the outbox copy of its SMS."""
    evidence = pdf.signed_pdf_render(request_id=request_id)
    return evidence.pdf_sha256


@shared_task(ignore_result=True)
def signing_sweep() -> dict[str, int]:
    """Every few minutes: expire overdue requests, end stale code rounds, render PDFs a crash left out."""
    missing = list(SignatureEvidence.objects.filter(pdf="").values_list("request_id", flat=True)[:100])
    for request_id in missing:
        pdf.signed_pdf_render(request_id=request_id)
    return {
        "expired": services.signature_requests_expire(),
        "codes_expired": services.signing_challenges_expire_stale(),
        "rendered": len(missing),
    }
