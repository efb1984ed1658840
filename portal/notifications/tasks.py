"""Thin Celery tasks: they take ids and call delivery, which is safe to run any number of times."""

from celery import shared_task

from . import delivery, reconcile
from .transports import ProviderUnreachable


@shared_task(ignore_result=True)
def deliver_outbox_message(message_id: int) -> str | None:
    return delivery.outbox_message_deliver(message_id=message_id)


@shared_task(ignore_result=True)
def outbox_sweep() -> dict[str, int]:
    return delivery.outbox_sweep()


@shared_task(
    ignore_result=True,
    autoretry_for=(ProviderUnreachable,),
    retry_backoff=30,
    retry_backoff_max=120,
    max_retries=3,
)
def outbox_reconcile() -> dict[str, int]:
    """Every few minutes: ask Twilio about SMS of unknown outcome; retried soon if it did not answer."""
    result = reconcile.outbox_reconcile()
    if isinstance(result.error, ProviderUnreachable):
        raise result.error
    return result.as_dict()
