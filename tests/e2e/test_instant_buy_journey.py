"""Instant shopping end to end: Delta Shop's merchant makes a buy button in the dashboard and copies its
snippet; client2 follows the link, logs in, picks express shipping and two pieces, clicks buy and lands on
the hosted checkout of a session made for exactly that."""

import re
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from bnpl.models import BuyButton, PaymentSession
from tests.bnpl.factories import ShopperFactory, merchant_for
from tests.factories import PASSWORD

from .conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_merchant_makes_a_buy_button_and_a_shopper_buys_from_it_in_one_step(
    page: Page, browser: Browser, live_server, settings, cast
):
    settings.PORTAL_REQUIRE_2FA = False
    settings.PORTAL_BASE_URL = live_server.url
    merchant_for(cast.merchant.organisation, actor=cast.admin, trading_name="Delta Shop")
    ShopperFactory(user=cast.client2)

    log_in(page, live_server.url, cast.merchant.email, PASSWORD)
    page.get_by_test_id("role-nav").get_by_role("link", name="Shop dashboard").click()
    page.get_by_test_id("merchant-tabs").get_by_role("link", name="Buy buttons").click()
    expect(page.get_by_test_id("no-buttons")).to_be_visible()
    page.get_by_test_id("button-new").click()
    page.get_by_label("Product name").fill("Coffee grinder")
    page.get_by_label("Unit price").fill("129.00")
    page.get_by_label("VAT rate (%)").fill("19")
    page.get_by_label("Shipping option 1", exact=True).fill("Standard (3–5 days)")
    page.get_by_label("Price of shipping option 1").fill("4.90")
    page.get_by_label("Shipping option 2", exact=True).fill("Express (next day)")
    page.get_by_label("Price of shipping option 2").fill("9.90")
    page.get_by_test_id("button-save").click()

    expect(page.get_by_role("status")).to_contain_text("The buy button is ready")
    button = BuyButton.objects.get()
    buy_link = f"{live_server.url}/bnpl/buy/{button.key}/"
    expect(page.get_by_test_id("button-snippet")).to_have_value(re.compile(re.escape(f'href="{buy_link}"')))
    expect(page.get_by_test_id("buy-link")).to_have_attribute("href", buy_link)
    page.get_by_test_id("merchant-tabs").get_by_role("link", name="Buy buttons").click()
    expect(page.get_by_test_id(f"button-{button.pk}")).to_contain_text("Coffee grinder")

    shopper = browser.new_context().new_page()
    shopper.goto(buy_link)
    expect(shopper).to_have_url(re.compile(r"/accounts/login/\?next="))
    shopper.get_by_label("E-mail").fill(cast.client2.email)
    shopper.get_by_label("Password").fill(PASSWORD)
    shopper.get_by_role("button", name="Sign In").click()
    expect(shopper.get_by_test_id("buy-product")).to_have_text("Coffee grinder")
    expect(shopper.get_by_test_id("buy-price")).to_contain_text("129.00 EUR")
    shopper.get_by_label("Express (next day)").check()
    shopper.get_by_label("Quantity").fill("2")
    shopper.get_by_role("button", name="Buy with Partnerzone").click()

    shopper.wait_for_url(re.compile(r"/bnpl/checkout/[\w-]+/$"))
    token = urlsplit(shopper.url).path.split("/")[3]
    session = PaymentSession.objects.get(token=token)
    assert session.button == button and session.merchant.trading_name == "Delta Shop"
    assert session.shopper_email == cast.client2.email and session.is_open()
    assert session.amount == Decimal("267.90")  # 2 × 129.00 + 9.90 express
    assert list(session.lines.values_list("name", "quantity", "line_total")) == [
        ("Coffee grinder", 2, Decimal("258.00")),
        ("Shipping: Express (next day)", 1, Decimal("9.90")),
    ]
