"""The hosted checkout end to end: Delta Shop's server opens a payment session through the API, the
shopper opens the checkout URL, registers in place, picks pay-in-4, gives the IBAN, downloads the
agreement, accepts it with the SMS code from the fake Twilio, and sees "Approved".
"""

import io
import json
import re
import urllib.request

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from bnpl.models import Order
from portal.api import services as api_keys
from tests.bnpl.conftest import shops  # noqa: F401 (Delta Shop and its merchant user)
from tests.fakes.fixtures import fake_twilio, twilio_settings  # noqa: F401 (the loopback Twilio)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

EMAIL = "nina.neumann@example.com"
PHONE = "+4915199990001"


def session_opened(base: str, merchant) -> dict:
    """What the shop's server does: POST /api/v1/bnpl/sessions/ with its API key."""
    _, secret = api_keys.api_key_create(
        actor=merchant, second_factor_verified=True, name="Shop server", scopes={"bnpl": "write"}
    )
    body = {
        "amount": "120.00",
        "currency": "EUR",
        "order_lines": [{"name": "Milk frother", "quantity": 2, "unit_price": "60.00", "tax_rate": "19.00"}],
        "shopper_email": EMAIL,
        "locale": "en",
        "reference": "DELTA-E2E-1",
        "return_url": "https://shop.example.com/thanks",
    }
    request = urllib.request.Request(
        f"{base}/api/v1/bnpl/sessions/",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Api-Key {secret}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 201
        return json.loads(answer.read())


def code_in(sms: dict) -> str:
    return re.search(r"\b(\d{6})\b", sms["body"]).group(1)


def test_a_new_shopper_registers_signs_the_agreement_with_the_sms_code_and_is_approved(
    page: Page,
    live_server,
    settings,
    cast,
    shops,  # noqa: F811
    twilio_settings,  # noqa: F811
    tmp_path,
):
    settings.PORTAL_REQUIRE_2FA = False
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PORTAL_BASE_URL = base = live_server.url
    session = session_opened(base, cast.merchant)
    pay_in_4 = next(option for option in session["payment_options"] if option["key"] == "pay_in_4")

    # The shop sends the shopper to the hosted checkout: the order, the options, a login or registration.
    page.goto(session["checkout_url"])
    expect(page.get_by_test_id("order-summary")).to_contain_text("Milk frother")
    expect(page.get_by_label("E-mail")).to_have_value(EMAIL)
    page.get_by_label("First name").fill("Nina")
    page.get_by_label("Last name").fill("Neumann")
    page.get_by_label("Mobile phone").fill(PHONE)
    page.get_by_label("Date of birth").fill("1990-04-02")
    page.get_by_label("Country or region").fill("DE-BY")
    page.get_by_label("Password").fill("a long enough pass phrase 42")
    page.get_by_test_id("register").click()

    # Pay in 4, with its figures as the API answered them.
    expect(page.get_by_test_id("option-figures-pay_in_4")).to_contain_text("Total payable 120.00 EUR")
    expect(page.get_by_test_id("option-figures-pay_in_4")).to_contain_text(f"APR {pay_in_4['apr'][:3]}")
    page.get_by_test_id("option-pay_in_4").check()
    page.get_by_test_id("choose-option").click()

    # The account for the direct debit.
    page.get_by_label("IBAN").fill("DE89 3704 0044 0532 0130 00")
    page.get_by_test_id("save-mandate").click()
    expect(page.get_by_test_id("mandate")).to_contain_text("DE89 •••• 3000")

    # The mobile number is proved once, by SMS.
    page.get_by_test_id("phone-send").click()
    [verify_sms] = twilio_settings.wait_for_messages(1)
    assert verify_sms["to"] == PHONE
    page.get_by_label("Code to verify your phone").fill(code_in(verify_sms))
    page.get_by_test_id("phone-verify").click()
    expect(page.get_by_test_id("phone-verified")).to_be_visible()

    # The pre-contractual information and the agreement as PDF.
    secci = page.get_by_test_id("secci")
    expect(secci).to_contain_text("Total amount payable")
    expect(page.get_by_test_id("secci-total")).to_have_text("120.00 EUR")
    expect(secci).to_contain_text("14 calendar days")
    with page.expect_download() as download:
        page.get_by_test_id("agreement-pdf").click()
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(download.value.path().read_bytes())).pages)
    assert "Credit agreement" in text and "Milk frother" in text and "DE89370400440532013000" in text

    # The code that accepts it, and the outcome.
    page.get_by_test_id("request-code").click()
    messages = twilio_settings.wait_for_messages(2)
    sign_sms = messages[1]
    assert sign_sms["to"] == PHONE and "Credit agreement for order DELTA-E2E-1" in sign_sms["body"]
    page.get_by_label("Code from the SMS").fill(code_in(sign_sms))
    page.get_by_test_id("accept").click()

    expect(page.get_by_test_id("outcome-title")).to_have_text("Approved")
    expect(page.get_by_test_id("return-to-shop")).to_have_attribute("href", "https://shop.example.com/thanks")
    order = Order.objects.get(reference="DELTA-E2E-1")
    assert order.state == Order.State.APPROVED and order.shopper.user.email == EMAIL

    # The link works once: opened again, it shows the outcome, not a second checkout.
    page.goto(session["checkout_url"])
    expect(page.get_by_test_id("outcome")).to_have_attribute("data-state", "approved")
