"""Thin Celery tasks of the accounts kernel."""

from portal.core.task_retry import retrying_task

from .phone_verification import phone_verifications_expire_stale


@retrying_task(max_retries=2, ignore_result=True)
def phone_verifications_sweep(self) -> int:
    """Every few minutes: end the phone verification rounds whose code can no longer work (their SMS secrets go)."""
    return phone_verifications_expire_stale()
