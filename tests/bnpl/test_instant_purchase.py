"""Instant shopping, the shopper's side and the merchant's callback: buying from a button opens a session,
the shop's server confirms or declines it (signed like a webhook), and a declined purchase places nothing."""

import json
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse

from bnpl import buttons, instant
from bnpl.models import BuyButton, MerchantConfirmation, Order, PaymentSession
from bnpl.webhooks import verify_signature
from clients.models import Client
from portal.audit.models import AuditEvent

from .test_instant_buttons import make_button

pytestmark = pytest.mark.django_db
Outcome = MerchantConfirmation.Outcome


@pytest.fixture
def merchant_server(settings):
    """The shop's server on loopback (private addresses allowed, as the webhooks' tests do)."""
    from tests.fakes.merchant_server import MerchantServer

    settings.BNPL_WEBHOOK_ALLOW_PRIVATE = True
    settings.BNPL_CONFIRM_TIMEOUT_SECONDS = 0.5
    server = MerchantServer().start()
    yield server
    server.stop()


@pytest.fixture
def button(shops, cast):
    return make_button(cast.merchant)


def buy(cast, button, *, quantity=2, option=None) -> PaymentSession:
    option = option or button.shipping_options.get(name="Express")
    return buttons.button_purchase(actor=cast.client2, key=button.key, shipping_option_id=option.pk, quantity=quantity)


def with_callback(shops, url: str) -> None:
    shops.delta.confirmation_url = url
    shops.delta.save(update_fields=["confirmation_url"])


# --- Buying from a button ----------------------------------------------------------------------------------


def test_buying_opens_a_session_of_the_shop_with_the_product_and_shipping_lines(shops, cast, button):
    session = buy(cast, button)

    assert session.merchant == shops.delta and session.button == button and session.is_open()
    assert session.amount == Decimal("507.90") and session.currency == "EUR"  # 2 × 249.00 + 9.90
    assert session.shopper_email == cast.client2.email and session.created_by == cast.client2
    assert session.reference.startswith("IB-")
    assert list(session.lines.values_list("name", "quantity", "unit_price", "tax_rate", "line_total")) == [
        ("Espresso machine", 2, Decimal("249.00"), Decimal("19.00"), Decimal("498.00")),
        ("Shipping: Express", 1, Decimal("9.90"), Decimal("19.00"), Decimal("9.90")),
    ]
    assert AuditEvent.objects.get(action="bnpl.session_created").changes["button"] == button.key


@pytest.mark.parametrize("quantity", [0, -1, 100, "2", True])
def test_a_quantity_outside_1_to_99_opens_nothing(shops, cast, button, quantity):
    with pytest.raises(ValidationError) as caught:
        buy(cast, button, quantity=quantity)
    assert "quantity" in caught.value.message_dict
    assert not PaymentSession.objects.exists()


def test_another_buttons_shipping_option_or_a_switched_off_button_opens_nothing(shops, cast, button):
    other = make_button(shops.merchant2, name="Tea set")
    with pytest.raises(ValidationError) as caught:
        buy(cast, button, option=other.shipping_options.first())
    assert "shipping_option" in caught.value.message_dict

    buttons.button_active_set(actor=cast.merchant, button_id=button.pk, active=False)
    with pytest.raises(ValidationError) as caught:
        buy(cast, button)
    assert "button" in caught.value.message_dict
    assert not PaymentSession.objects.exists()


def test_an_anonymous_visitor_cannot_buy(shops, button):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionDenied):
        buttons.button_purchase(actor=AnonymousUser(), key=button.key, shipping_option_id=1, quantity=1)


def test_the_buy_page_asks_for_a_login_and_comes_back(shops, button, client):
    url = reverse("bnpl:buy", args=[button.key])

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={url}"


def test_the_buy_page_sells_in_one_step_and_sends_the_shopper_to_the_checkout(shops, cast, button, login_as):
    page = login_as(cast.client2)
    url = reverse("bnpl:buy", args=[button.key])
    shown = page.get(url).content.decode()
    assert "Espresso machine" in shown and "Express" in shown and "249.00 EUR" in shown

    standard = button.shipping_options.get(name="Standard")
    response = page.post(url, {"quantity": "1", "shipping_option": str(standard.pk)})

    session = PaymentSession.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/bnpl/checkout/{session.token}/"
    assert session.amount == Decimal("253.90") and session.button == button


def test_bad_choices_on_the_buy_page_are_answered_there(shops, cast, button, login_as):
    page = login_as(cast.client2)
    url = reverse("bnpl:buy", args=[button.key])

    no_option = page.post(url, {"quantity": "1", "shipping_option": "99999999999999999999"})
    no_quantity = page.post(url, {"quantity": "lots", "shipping_option": str(button.shipping_options.first().pk)})

    assert no_option.status_code == 400 and "Choose one of the shipping options" in no_option.content.decode()
    assert no_quantity.status_code == 400 and "Choose a quantity from 1 to 99" in no_quantity.content.decode()
    assert not PaymentSession.objects.exists()


def test_an_unknown_or_switched_off_button_gets_a_clear_page(shops, cast, button, login_as):
    page = login_as(cast.client2)
    buttons.button_active_set(actor=cast.merchant, button_id=button.pk, active=False)

    for key in (button.key, "pzb_unknown"):
        response = page.get(reverse("bnpl:buy", args=[key]))
        assert response.status_code == 404
        assert "This product is not on offer" in response.content.decode()
    assert page.post(reverse("bnpl:buy", args=[button.key]), {"quantity": "1"}).status_code == 404
    assert not PaymentSession.objects.exists()


# --- The merchant's callback --------------------------------------------------------------------------------


def test_the_shop_confirms_with_a_signed_request_carrying_lines_amount_and_shipping_details(
    shops, cast, button, merchant_server
):
    Client.objects.create(
        number="C-9", first_name="Carl", last_name="Weber", street="Hauptstr. 5", postcode="10115", city="Berlin",
        country="DE", user=cast.client2,
    )  # fmt: skip
    with_callback(shops, merchant_server.url)
    merchant_server.decide("confirm", merchant_order_id="SHOP-7781")
    session = buy(cast, button)

    confirmation = instant.merchant_confirm(session=session)

    assert confirmation == instant.Confirmation(True, "Confirmed by the shop.", "SHOP-7781")
    [request] = merchant_server.requests
    assert verify_signature(shops.delta.webhook_secret(), request["headers"]["Partnerzone-Signature"], request["body"])
    assert request["headers"]["Partnerzone-Event"] == "order.confirmation_request"
    body = json.loads(request["body"])
    assert body["session"]["amount"] == "507.90" and body["session"]["reference"] == session.reference
    assert [line["name"] for line in body["session"]["order_lines"]] == ["Espresso machine", "Shipping: Express"]
    assert body["session"]["button"] == {"key": button.key, "name": "Espresso machine"}
    address = body["shopper"]["shipping_address"]
    assert (address["street"], address["city"], address["region"]) == ("Hauptstr. 5", "Berlin", "DE-BE")
    assert body["shopper"]["email"] == cast.client2.email
    record = MerchantConfirmation.objects.get()
    assert (record.outcome, record.status_code, record.merchant_order_id) == (Outcome.CONFIRMED, 200, "SHOP-7781")
    assert AuditEvent.objects.filter(action="bnpl.instant_confirmed", object_id=str(session.pk)).exists()


@pytest.mark.parametrize(
    ("arrange", "outcome", "status", "reason"),
    [
        (
            lambda s: s.decide("decline", reason="Out of stock"),
            Outcome.DECLINED,
            200,
            "declined the order: Out of stock",
        ),
        (lambda s: s.decide("maybe"), Outcome.BAD_ANSWER, 200, 'not {"decision": "confirm"}'),
        (lambda s: s.garble_next(b"<html>oops</html>"), Outcome.BAD_ANSWER, 200, 'not {"decision"'),
        (lambda s: s.garble_next(b'["confirm"]'), Outcome.BAD_ANSWER, 200, 'not {"decision"'),
        (lambda s: s.fail_next(500), Outcome.SERVER_ERROR, 500, "answered HTTP 500"),
        (lambda s: s.fail_next(302), Outcome.SERVER_ERROR, 302, "answered HTTP 302"),
        (lambda s: s.hang_next(seconds=3), Outcome.TIMEOUT, None, "did not answer within 0.5 seconds"),
    ],
    ids=["decline", "unknown-decision", "garbage", "json-not-an-object", "500", "redirect", "timeout"],
)
def test_anything_but_an_explicit_confirm_declines_and_is_recorded(
    shops, cast, button, merchant_server, arrange, outcome, status, reason
):
    with_callback(shops, merchant_server.url)
    arrange(merchant_server)
    session = buy(cast, button)

    confirmation = instant.merchant_confirm(session=session)

    assert not confirmation.confirmed and reason in confirmation.reason
    record = MerchantConfirmation.objects.get()
    assert (record.outcome, record.status_code, record.session) == (outcome, status, session)
    assert record.reason == confirmation.reason
    assert AuditEvent.objects.get(action="bnpl.instant_declined").changes["outcome"] == outcome


def test_a_shop_server_that_is_down_declines(shops, cast, button, merchant_server):
    with_callback(shops, merchant_server.url)
    merchant_server.stop()

    confirmation = instant.merchant_confirm(session=buy(cast, button))

    assert not confirmation.confirmed and "could not be reached" in confirmation.reason
    assert MerchantConfirmation.objects.get().outcome == Outcome.UNREACHABLE


def test_a_private_address_is_refused_without_a_call_where_they_are_not_allowed(
    shops, cast, button, merchant_server, settings
):
    with_callback(shops, merchant_server.url)
    settings.BNPL_WEBHOOK_ALLOW_PRIVATE = False

    confirmation = instant.merchant_confirm(session=buy(cast, button))

    assert not confirmation.confirmed and merchant_server.requests == []
    assert MerchantConfirmation.objects.get().outcome == Outcome.REFUSED


def test_without_a_callback_url_the_purchase_is_confirmed_by_default(shops, cast, button):
    confirmation = instant.merchant_confirm(session=buy(cast, button))

    assert confirmation.confirmed and "no confirmation URL" in confirmation.reason
    assert MerchantConfirmation.objects.get().outcome == Outcome.CONFIRMED_BY_DEFAULT


def test_a_session_the_shops_server_opened_needs_no_call(shops, cast, merchant_server):
    from .factories import PaymentSessionFactory

    with_callback(shops, merchant_server.url)
    session = PaymentSessionFactory(merchant=shops.delta)

    assert instant.merchant_confirm(session=session).confirmed
    assert merchant_server.requests == [] and not MerchantConfirmation.objects.exists()


def test_a_closed_session_is_not_asked_about(shops, cast, button, merchant_server):
    with_callback(shops, merchant_server.url)
    session = buy(cast, button)
    PaymentSession.objects.filter(pk=session.pk).update(state=PaymentSession.State.USED)

    assert not instant.merchant_confirm(session=session).confirmed
    assert merchant_server.requests == []


def test_it_refuses_to_call_out_inside_a_transaction(shops, cast, button, merchant_server):
    with_callback(shops, merchant_server.url)
    session = buy(cast, button)

    with pytest.raises(RuntimeError), transaction.atomic():
        instant.merchant_confirm(session=session)
    assert merchant_server.requests == []


def test_the_merchant_sees_its_confirmations_and_another_merchant_does_not(
    shops, cast, button, merchant_server, login_as
):
    with_callback(shops, merchant_server.url)
    merchant_server.decide("decline", reason="Sold out")
    instant.merchant_confirm(session=buy(cast, button))

    page = login_as(cast.merchant).get(reverse("bnpl:merchant-confirmations")).content.decode()
    assert "Declined by the merchant" in page and "Sold out" in page
    assert not MerchantConfirmation.objects.restrict(shops.merchant2).exists()
    other = login_as(shops.merchant2).get(reverse("bnpl:merchant-confirmations")).content.decode()
    assert "Sold out" not in other


@pytest.mark.parametrize(
    ("url", "allow_private", "message"),
    [
        ("http://shop.example.com/confirm", False, "https://"),
        ("https://127.0.0.1/confirm", False, "not a public internet address"),
        ("ftp://shop.example.com/confirm", True, "Only http:// and https://"),
    ],
)
def test_a_confirmation_url_must_be_https_and_public(shops, cast, login_as, settings, url, allow_private, message):
    settings.BNPL_WEBHOOK_ALLOW_PRIVATE = allow_private

    response = login_as(cast.merchant).post(reverse("bnpl:merchant-confirmations"), {"confirmation_url": url})

    assert response.status_code == 400 and message in response.content.decode()
    shops.delta.refresh_from_db()
    assert shops.delta.confirmation_url == ""


def test_a_merchant_sets_its_loopback_confirmation_url_where_private_addresses_are_allowed(
    shops, cast, login_as, merchant_server
):
    response = login_as(cast.merchant).post(
        reverse("bnpl:merchant-confirmations"), {"confirmation_url": merchant_server.url}
    )

    assert response.status_code == 302
    shops.delta.refresh_from_db()
    assert shops.delta.confirmation_url == merchant_server.url
    assert AuditEvent.objects.filter(action="bnpl.confirmation_url_changed").exists()


# --- The whole sequence, with a stand-in for the checkout's place ------------------------------------------------


def place_stand_in(*, session: PaymentSession, shopper) -> Order | None:
    """What `checkout_place` must do for a button's session (bnpl/instant.py's contract), reduced to the order."""
    confirmation = instant.merchant_confirm(session=session)  # outside any transaction
    if not confirmation.confirmed:
        return None
    with transaction.atomic():
        locked = PaymentSession.objects.select_for_update().get(pk=session.pk)
        if not locked.is_open():
            return None
        order = Order.objects.create(
            merchant=locked.merchant,
            shopper=shopper,
            session=locked,
            reference=locked.reference,
            amount=locked.amount,
            currency=locked.currency,
            option_key="pay_in_4",
        )
        locked.state = PaymentSession.State.USED
        locked.save(update_fields=["state"])
    return order


def test_a_declined_instant_purchase_leaves_no_order_and_a_confirmed_one_exactly_one(
    shops, cast, button, merchant_server
):
    with_callback(shops, merchant_server.url)
    orders_before = Order.objects.count()
    merchant_server.decide("decline", reason="Cannot deliver there")
    declined = buy(cast, button)

    assert place_stand_in(session=declined, shopper=shops.client2) is None
    assert Order.objects.count() == orders_before and not Order.objects.filter(session=declined).exists()
    declined.refresh_from_db()
    assert declined.state == PaymentSession.State.OPEN

    merchant_server.hang_next(seconds=3)
    assert place_stand_in(session=buy(cast, button), shopper=shops.client2) is None
    assert Order.objects.count() == orders_before

    merchant_server.decide("confirm")
    confirmed = buy(cast, button)
    order = place_stand_in(session=confirmed, shopper=shops.client2)
    assert order is not None and order.amount == confirmed.amount
    assert place_stand_in(session=confirmed, shopper=shops.client2) is None  # the session is used
    assert Order.objects.count() == orders_before + 1
    assert BuyButton.objects.get().sessions.count() == 3


def test_the_confirmations_page_runs_a_bounded_number_of_queries(
    shops, cast, button, login_as, django_assert_max_num_queries
):
    client = login_as(cast.merchant)
    instant.merchant_confirm(session=buy(cast, button))
    client.get(reverse("bnpl:merchant-confirmations"))  # warm the session and the caches
    with django_assert_max_num_queries(15) as few:
        assert client.get(reverse("bnpl:merchant-confirmations")).status_code == 200
    for _ in range(8):
        instant.merchant_confirm(session=buy(cast, button))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(reverse("bnpl:merchant-confirmations")).status_code == 200


def test_the_buy_page_runs_a_bounded_number_of_queries(shops, cast, login_as, django_assert_max_num_queries):
    few_options = make_button(cast.merchant)
    many_options = make_button(
        cast.merchant,
        name="Grinder",
        shipping_options=[buttons.ShippingInput(f"Option {n}", Decimal(n)) for n in range(10)],
    )
    client = login_as(cast.client2)
    client.get(reverse("bnpl:buy", args=[few_options.key]))
    with django_assert_max_num_queries(12) as few:
        assert client.get(reverse("bnpl:buy", args=[few_options.key])).status_code == 200
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(reverse("bnpl:buy", args=[many_options.key])).status_code == 200


def test_the_shop_reads_a_button_session_through_the_api_with_its_button_key(shops, cast, button, client):
    from .test_sessions_api import key_of

    session = buy(cast, button)
    mine = key_of(cast.merchant)

    data = client.get(f"/api/v1/bnpl/sessions/{session.pk}/", **mine).json()

    assert data["button"] == button.key and data["amount"] == "507.90"
    assert [row["button"] for row in client.get("/api/v1/bnpl/sessions/", **mine).json()["results"]] == [button.key]
    assert client.get(f"/api/v1/bnpl/sessions/{session.pk}/", **key_of(shops.merchant2)).status_code == 404
