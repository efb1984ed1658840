"""The fee module's daily beat task: thin, takes no objects, and a re-run the same day changes nothing."""

from django.utils import timezone

from portal.core.task_retry import retrying_task

from . import fees


@retrying_task(max_retries=3, ignore_result=True)
def fees_daily(self) -> dict[str, dict[str, int]]:
    """Charge late fees past their grace days (once each), then re-apply the fee status rules."""
    today = timezone.localdate()
    return {"late_fees": fees.late_fees_charge(today=today), "status": fees.fee_status_evaluate(today=today)}
