from types import SimpleNamespace

import pytest

from .factories import ShopperFactory, merchant_for, merchant_with_user, order_with_plan


@pytest.fixture
def shops(cast):
    """Delta Shop (cast.merchant's) and Epsilon Store (merchant2) as BNPL merchants; client2 and client3 as
    shoppers with one order each at Delta, and client3 one at Epsilon."""
    delta = merchant_for(cast.merchant.organisation, actor=cast.admin)
    epsilon, merchant2 = merchant_with_user("Epsilon Store", "merchant2@example.com")
    client2, client3 = ShopperFactory(user=cast.client2), ShopperFactory(user=cast.client3)
    return SimpleNamespace(
        delta=delta,
        epsilon=epsilon,
        merchant2=merchant2,
        client2=client2,
        client3=client3,
        delta_order2=order_with_plan(merchant=delta, shopper=client2, reference="D-2"),
        delta_order3=order_with_plan(merchant=delta, shopper=client3, reference="D-3"),
        epsilon_order3=order_with_plan(merchant=epsilon, shopper=client3, reference="E-3"),
    )


@pytest.fixture
def webhook_receiver(settings):
    """A loopback HTTP server for merchant webhooks (tests/fakes/webhook_receiver.py); private addresses allowed."""
    from tests.fakes.webhook_receiver import WebhookReceiver

    settings.BNPL_WEBHOOK_ALLOW_PRIVATE = True
    settings.BNPL_WEBHOOK_TIMEOUT_SECONDS = 0.5
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()
