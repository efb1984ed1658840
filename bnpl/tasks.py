"""Thin Celery tasks of bnpl."""

from portal.core.task_retry import retrying_task


@retrying_task(max_retries=8, ignore_result=True)
def order_tracking_register(self, order_id: int) -> bool:
    """Register a shipped order's parcel with the carrier (idempotent); retried while the carrier is away."""
    from .orders import order_tracking_register as register

    return register(order_id=order_id)


@retrying_task(max_retries=2, ignore_result=True)
def orders_tracking_sweep(self) -> int:
    """Hourly: register the parcels of shipped orders that were never registered (the queue was away)."""
    from .orders import orders_tracking_unregistered, tracking_register_later

    order_ids = orders_tracking_unregistered()
    for order_id in order_ids:
        tracking_register_later(order_id)
    return len(order_ids)
