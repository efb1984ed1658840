"""Celery tasks of the commissions app: thin, take ids and ISO dates, safe to run again.

Every run is idempotent, so a transient error (database or broker away for a moment) simply
retries with backoff; anything else fails the task at once.
"""

from datetime import date, timedelta

from django.utils import timezone

from portal.core.task_retry import retrying_task

from . import services
from .models import month_start

BROKERS_PER_TASK = 50


def _period(value: str | None) -> date:
    return month_start(date.fromisoformat(value)) if value else month_start(timezone.localdate())


@retrying_task(max_retries=5)
def commissions_accrue(self, period: str | None = None) -> int:
    """Fan out the accrual of a month (default: this month and last month while it is open)."""
    if period:
        periods = [_period(period)]
    else:
        this = _period(None)
        periods = [month_start(this - timedelta(days=1)), this]
    queued = 0
    for month in periods:
        services.month_ensure(period=month)
        ids = services.month_brokers(period=month)
        for i in range(0, len(ids), BROKERS_PER_TASK):
            commissions_accrue_brokers.delay(month.isoformat(), ids[i : i + BROKERS_PER_TASK])
            queued += 1
    return queued


@retrying_task(max_retries=5)
def commissions_accrue_brokers(self, period: str, broker_ids: list[int]) -> int:
    return services.month_accrue(period=_period(period), broker_ids=broker_ids)


@retrying_task(max_retries=5)
def commissions_month_close(self, period: str) -> list[int]:
    return services.month_close_finish(period=_period(period))


@retrying_task(max_retries=5)
def statement_pdf_render(self, statement_id: int) -> str:
    from .pdf import statement_pdf_store

    return statement_pdf_store(statement_id=statement_id).pdf.name
