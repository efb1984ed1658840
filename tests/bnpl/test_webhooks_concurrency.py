"""Ten workers delivering the same webhook at once (PostgreSQL): the receiver gets it once, one attempt is recorded."""

import pytest

from bnpl import webhooks
from bnpl.models import WebhookAttempt, WebhookDelivery
from tests.parallel import in_parallel

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_parallel_tasks_deliver_a_webhook_once(shops, webhook_receiver):
    shops.delta.webhook_url = webhook_receiver.url
    shops.delta.save(update_fields=["webhook_url"])
    # Written as webhook_enqueue writes it, without its after-commit hand-over: the workers race for it.
    delivery = WebhookDelivery.objects.create(
        merchant=shops.delta, event="order.captured", payload={"reference": "D-2"}
    )

    outcomes = in_parallel(10, lambda n: webhooks.webhook_deliver(delivery_id=delivery.pk))

    assert sorted(outcomes, key=str) == [None] * 9 + [WebhookDelivery.State.DELIVERED]
    assert len(webhook_receiver.requests) == 1
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 1
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.state == WebhookDelivery.State.DELIVERED
