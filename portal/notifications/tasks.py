"""Thin Celery tasks: they take ids and call delivery, which is safe to run any number of times.

A transient error (the database or the broker away for a moment) retries with backoff; delivery
itself decides what a failed send means (retry later, failed, or unknown) and records it on the row.
"""

from portal.core.task_retry import retrying_task

from . import delivery, reconcile
from .transports import ProviderUnreachable


@retrying_task(max_retries=5, ignore_result=True)
def deliver_outbox_message(self, message_id: int) -> str | None:
    return delivery.outbox_message_deliver(message_id=message_id)


# Beat sends the next sweep in 30 s anyway: two quick retries, then leave it to that one.
@retrying_task(max_retries=2, ignore_result=True)
def outbox_sweep(self) -> dict[str, int]:
    return delivery.outbox_sweep()


# ProviderUnreachable is a ConnectionError: Twilio not answering is retried like the database or Redis.
@retrying_task(max_retries=3, ignore_result=True)
def outbox_reconcile(self) -> dict[str, int]:
    """Every few minutes: ask Twilio about SMS of unknown outcome; retried soon if it did not answer."""
    result = reconcile.outbox_reconcile()
    if isinstance(result.error, ProviderUnreachable):
        raise result.error
    return result.as_dict()
