"""Thin Celery tasks of the API kernel."""

from portal.core.task_retry import retrying_task

from .idempotency import idempotency_records_expire
from .throttling import rate_windows_purge


@retrying_task(max_retries=5, ignore_result=True)
def api_sweep(self) -> dict[str, int]:
    """Hourly: delete expired idempotency records and the database rate counters of ended windows."""
    return {"idempotency_records": idempotency_records_expire(), "rate_windows": rate_windows_purge()}
