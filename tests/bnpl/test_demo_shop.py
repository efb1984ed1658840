"""The demo shop: a cart that opens a payment session through the merchant API over HTTP."""

from decimal import Decimal

import pytest
from django.urls import reverse

from bnpl.demo_shop import DEMO_KEY_NAME, demo_shop_key_ensure
from bnpl.models import PaymentSession
from portal.api.models import ApiKey

from .factories import merchant_for

SHOP = reverse("bnpl:demo-shop")


@pytest.fixture
def demo_shop(settings, tmp_path, cast):
    """The shop switched on, Delta Shop a BNPL merchant with the demo shop's key in a file."""
    settings.BNPL_DEMO_SHOP = True
    settings.BNPL_DEMO_SHOP_KEY_FILE = str(tmp_path / "demo-shop.key")
    merchant_for(cast.merchant.organisation, actor=cast.admin)
    demo_shop_key_ensure(cast.merchant, stdout=_Quiet())
    return tmp_path / "demo-shop.key"


class _Quiet:
    def write(self, text):
        return None


def test_the_shop_is_not_served_outside_the_demo(client, db, settings):
    settings.BNPL_DEMO_SHOP = False
    assert client.get(SHOP).status_code == 404
    assert client.get(reverse("bnpl:demo-shop-thanks")).status_code == 404


def test_the_key_is_made_once_and_kept_private(demo_shop, cast):
    assert oct(demo_shop.stat().st_mode & 0o777) == "0o600"
    secret = demo_shop.read_text()
    demo_shop_key_ensure(cast.merchant, stdout=_Quiet())
    assert demo_shop.read_text() == secret
    assert ApiKey.objects.filter(owner=cast.merchant, name=DEMO_KEY_NAME).count() == 1


@pytest.mark.django_db(transaction=True)
def test_paying_later_opens_a_session_through_the_api_and_goes_to_checkout(live_server, settings, client, demo_shop):
    settings.PORTAL_BASE_URL = live_server.url

    answer = client.post(SHOP, {"qty-espresso": "1", "qty-beans": "2", "email": "client2@example.com"})

    session = PaymentSession.objects.get()
    assert answer.status_code == 302
    assert answer["Location"].endswith(f"/bnpl/checkout/{session.token}/")
    assert session.amount == Decimal("286.00")
    assert session.reference.startswith("SHOP-")
    assert [(line.name, line.quantity) for line in session.lines.all()] == [
        ("Espresso machine", 1),
        ("Coffee beans 1 kg", 2),
    ]


@pytest.mark.parametrize("form", [{}, {"qty-bike": "-1"}, {"qty-bike": "99"}, {"qty-bike": "two"}])
def test_a_bad_cart_is_refused_and_opens_nothing(client, demo_shop, form):
    answer = client.post(SHOP, {"email": "client2@example.com", **form})
    assert answer.status_code == 400
    assert not PaymentSession.objects.exists()


def test_without_a_key_the_shop_says_how_to_get_one(client, demo_shop):
    demo_shop.unlink()
    answer = client.post(SHOP, {"qty-beans": "1", "email": "client2@example.com"})
    assert answer.status_code == 400
    assert "make demo" in answer.content.decode()


@pytest.mark.django_db(transaction=True)
def test_an_api_refusal_is_shown_and_opens_nothing(live_server, settings, client, demo_shop):
    settings.PORTAL_BASE_URL = live_server.url
    answer = client.post(SHOP, {"qty-beans": "1", "email": "not-an-address"})
    assert answer.status_code == 400
    assert "refused the cart (400)" in answer.content.decode()
    assert not PaymentSession.objects.exists()


def test_an_unreachable_api_is_a_clear_message(client, settings, demo_shop):
    settings.PORTAL_BASE_URL = "http://127.0.0.1:9"  # the discard port: nothing listens
    answer = client.post(SHOP, {"qty-beans": "1", "email": "client2@example.com"})
    assert answer.status_code == 400
    assert "did not answer" in answer.content.decode()
