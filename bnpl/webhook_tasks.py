"""Thin Celery tasks for merchant webhooks: they take ids and call bnpl.webhooks, safe to run any number of times."""

from portal.core.task_retry import retrying_task

from . import webhooks


@retrying_task(max_retries=5, ignore_result=True)
def deliver_webhook(self, delivery_id: int) -> str | None:
    return webhooks.webhook_deliver(delivery_id=delivery_id)


# Beat sends the next sweep in a minute anyway: two quick retries, then leave it to that one.
@retrying_task(max_retries=2, ignore_result=True)
def webhook_sweep(self) -> dict[str, int]:
    return webhooks.webhook_sweep()
