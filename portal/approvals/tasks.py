"""Celery tasks of the approval engine: thin and safe to run again."""

from portal.core.task_retry import retrying_task

from . import services


@retrying_task(max_retries=5)
def approvals_expire(self) -> int:
    """Beat: pending approvals past their due time expire (a re-run finds nothing left to do)."""
    return services.approvals_expire()
