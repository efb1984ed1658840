"""Thin Celery tasks: they take ids and call delivery, which is safe to run any number of times."""

from celery import shared_task

from . import delivery


@shared_task(ignore_result=True)
def deliver_outbox_message(message_id: int) -> str | None:
    return delivery.outbox_message_deliver(message_id=message_id)


@shared_task(ignore_result=True)
def outbox_sweep() -> dict[str, int]:
    return delivery.outbox_sweep()
