"""Thin Celery tasks of the API kernel."""

from celery import shared_task

from portal.core.task_retry import RETRY_BACKOFF_MAX, TRANSIENT_ERRORS

from .idempotency import idempotency_records_expire
from .throttling import rate_windows_purge


@shared_task(
    bind=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=True,
    retry_backoff_max=RETRY_BACKOFF_MAX,
    retry_jitter=True,
    max_retries=5,
    ignore_result=True,
)
def api_sweep(self) -> dict[str, int]:
    """Hourly: delete expired idempotency records and the database rate counters of ended windows."""
    return {"idempotency_records": idempotency_records_expire(), "rate_windows": rate_windows_purge()}
