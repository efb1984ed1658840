"""Thin Celery tasks of the API kernel."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from .idempotency import idempotency_records_expire
from .throttling import rate_windows_purge


# Only a database that is away for a moment is worth another try; anything else is a bug to see.
@shared_task(
    ignore_result=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=30,
    retry_backoff_max=600,
    max_retries=5,
)
def api_sweep() -> dict[str, int]:
    """Hourly: delete expired idempotency records and the database rate counters of ended windows."""
    return {"idempotency_records": idempotency_records_expire(), "rate_windows": rate_windows_purge()}
