"""Demo webhooks for Delta Shop: one delivered at the second attempt, one failing with 500, one pending.

Delta Shop's webhook URL stays empty (the demo has no receiver), so these rows are written as the
delivery machinery would have left them; when they fall due the sweep gives them up for lack of a URL,
which the dashboard then shows too. Running it again changes nothing.
"""

from datetime import timedelta

from django.utils import timezone

from .models import Merchant, WebhookAttempt, WebhookDelivery

State = WebhookDelivery.State


def webhook_demo_ensure(merchant_user) -> int:
    """Create the demo deliveries of `merchant_user`'s shop once; returns how many it created."""
    merchant = Merchant.objects.filter(organisation_id=merchant_user.organisation_id).first()
    if merchant is None or WebhookDelivery.objects.filter(merchant=merchant).exists():
        return 0
    now = timezone.now()
    url = "https://delta-shop.example/partnerzone/webhooks"
    delivered = _delivery(merchant, "order.approved", "DELTA-1001", now - timedelta(hours=5), State.DELIVERED)
    delivered.attempts, delivered.delivered_at, delivered.last_status_code = (
        2,
        now - timedelta(hours=4, minutes=59),
        200,
    )
    delivered.save()
    WebhookAttempt.objects.bulk_create(
        [
            WebhookAttempt(
                delivery=delivered,
                at=now - timedelta(hours=5),
                url=url,
                error="No answer within 10.0 seconds.",
                duration_ms=10003,
            ),
            WebhookAttempt(delivery=delivered, at=delivered.delivered_at, url=url, status_code=200, duration_ms=184),
        ]
    )
    failed = _delivery(merchant, "order.shipped", "DELTA-1001", now - timedelta(hours=1), State.FAILED)
    failed.attempts, failed.last_status_code = 1, 500
    failed.last_error = "The receiver answered HTTP 500."
    failed.next_attempt_at = now + timedelta(hours=2)
    failed.save()
    WebhookAttempt.objects.create(
        delivery=failed, at=now - timedelta(hours=1), url=url, status_code=500, error=failed.last_error, duration_ms=96
    )
    pending = _delivery(merchant, "order.captured", "DELTA-1002", now - timedelta(minutes=2), State.PENDING)
    pending.next_attempt_at = now + timedelta(hours=1)
    pending.save()
    return 3


def _delivery(merchant, event, reference, created_at, state) -> WebhookDelivery:
    return WebhookDelivery(
        merchant=merchant,
        event=event,
        created_at=created_at,
        state=state,
        payload={"reference": reference, "event": event},
        next_attempt_at=created_at,
    )
