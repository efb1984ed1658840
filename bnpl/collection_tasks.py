"""The collections' daily beat tasks: thin, take no objects, and a re-run the same day changes nothing."""

from datetime import timedelta

from django.utils import timezone

from portal.core.task_retry import retrying_task


@retrying_task(max_retries=3, ignore_result=True)
def collection_run_tomorrow(self) -> int:
    """Prepare tomorrow's direct debit file (the run already there is kept); returns the run's id."""
    from .collection_runs import collection_run_prepare

    return collection_run_prepare(actor=None, collection_date=timezone.localdate() + timedelta(days=1)).pk


@retrying_task(max_retries=3, ignore_result=True)
def dunning_daily(self) -> dict[str, int]:
    """Mark overdue instalments, charge late fees after the grace days, send the dunning levels reached."""
    from .dunning import dunning_run

    return dunning_run(today=timezone.localdate())
