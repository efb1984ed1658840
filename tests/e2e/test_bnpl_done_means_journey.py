"""Issue 14's "Done means", walked in the browser on the demo's own data.

The demo shop (Delta Shop's stand-in web shop, calling the merchant API with its key) sends client2
to the hosted checkout with a road bike over their purchase limit; client2 logs in, picks twelve
monthly instalments, reads the key facts and the agreement, and accepts it with the SMS code from the
dev outbox; the purchase goes to review. analyst@ prepares the review, backoffice@ (signed in with a
second factor) approves it, the shop's server captures and ships the order through the API, and
client2 finds the payment schedule e-mail with its PDF in the dev outbox.
"""

import io
import json
import re
import urllib.request
from pathlib import Path

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from bnpl.models import Order
from portal.accounts.models import User
from portal.shell.demo import DEMO_PASSWORD
from tests.signing.conftest import a_minute_passes

from .conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def bnpl_demo(request, settings, tmp_path):
    """`make demo` with the demo shop served (it is on wherever DEBUG is) and English pages."""
    settings.BNPL_DEMO_SHOP = True
    settings.BNPL_DEMO_SHOP_KEY_FILE = str(tmp_path / "demo-shop.key")
    request.getfixturevalue("demo")
    for user in User.objects.filter(
        email__in=["client2@example.com", "analyst@example.com", "backoffice@example.com", "merchant@example.com"]
    ):
        user.language = "en"
        user.save(update_fields=["language"])
    return Path(settings.BNPL_DEMO_SHOP_KEY_FILE).read_text().strip()


def shop_server_posts(base: str, key: str, path: str, body: dict) -> dict:
    """What Delta Shop's server does with its API key."""
    call = urllib.request.Request(
        f"{base}{path}",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Api-Key {key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(call, timeout=10) as answer:
        assert answer.status in (200, 201)
        return json.loads(answer.read())


def newest_sms_code(page: Page, base: str) -> str:
    page.goto(f"{base}/notifications/dev-outbox/?channel=sms")
    body = page.get_by_test_id("outbox-message").first.get_by_test_id("outbox-body").inner_text()
    return re.search(r"\b(\d{6})\b", body).group(1)


def switch_user(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/")  # leave the page first: a late poll must not set a cookie under the next login
    page.context.clear_cookies()
    log_in(page, base, email, DEMO_PASSWORD)


def test_a_purchase_from_the_demo_shop_is_signed_reviewed_by_two_people_shipped_and_scheduled(
    page: Page, live_server, bnpl_demo
):
    base = live_server.url
    shop_key = bnpl_demo

    # The shop: a road bike (2,400 EUR; client2's limit is 1,500 EUR), paid later.
    page.goto(f"{base}/bnpl/demo-shop/")
    page.get_by_label("Road bike").fill("1")
    page.get_by_role("button", name="Pay later with Partnerzone").click()
    expect(page).to_have_url(re.compile(r"/bnpl/checkout/[\w-]+/$"))
    expect(page.get_by_test_id("order-summary")).to_contain_text("Road bike")
    checkout_url = page.url

    # client2 logs in from the checkout and comes back to it.
    page.get_by_test_id("login-link").click()
    page.get_by_label("E-mail").fill("client2@example.com")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page).to_have_url(checkout_url)

    # Twelve monthly instalments; the account and the phone are known from earlier purchases.
    page.get_by_test_id("option-monthly_12").check()
    page.get_by_test_id("choose-option").click()
    expect(page.get_by_test_id("mandate")).to_be_visible()
    expect(page.get_by_test_id("phone-verified")).to_be_visible()
    expect(page.get_by_test_id("secci-credit")).to_contain_text("2,400.00")
    expect(page.get_by_test_id("secci")).to_contain_text("14 calendar days")

    # The agreement as PDF, then the SMS code that accepts exactly it.
    with page.expect_download() as download:
        page.get_by_test_id("agreement-pdf").click()
    agreement = "".join(p.extract_text() for p in PdfReader(download.value.path()).pages)
    assert "Road bike" in agreement
    a_minute_passes()  # since the demo sent client2 a code for a signing request of their broker
    page.get_by_test_id("request-code").click()
    expect(page.get_by_label("Code from the SMS")).to_be_visible()
    code = newest_sms_code(page, base)
    page.goto(checkout_url)
    page.get_by_label("Code from the SMS").fill(code)
    page.get_by_test_id("accept").click()
    expect(page.get_by_test_id("outcome")).to_have_attribute("data-state", "in_review")
    order = Order.objects.get(amount=2400, state=Order.State.IN_REVIEW, session__isnull=False)

    # The first person: the credit analyst prepares the review.
    switch_user(page, base, "analyst@example.com")
    page.goto(f"{base}/bnpl/reviews/")
    page.get_by_role("link", name=order.reference).click()
    expect(page.get_by_test_id("decision-trace")).to_contain_text("purchase limit")
    page.get_by_label("Approve").check()
    page.get_by_label("Note").fill("Long-standing customer, pays on time; the bike is within the income band.")
    page.get_by_role("button", name="Send for approval").click()
    expect(page.get_by_test_id("review-prepared")).to_be_visible()

    # The second person: back office, signed in with a second factor, approves from the approvals list.
    page.goto(f"{base}/")
    page.context.clear_cookies()
    backoffice = User.objects.get(email="backoffice@example.com")
    device = TOTPDevice.objects.create(user=backoffice, name="phone", confirmed=True)
    log_in(page, base, backoffice.email, DEMO_PASSWORD)
    page.get_by_label("Code", exact=True).fill(f"{TOTP(device.bin_key).token():06d}")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_test_id("role-nav")).to_be_visible()
    page.goto(f"{base}/approvals/")
    page.get_by_test_id("approval-table").get_by_role("link", name=re.compile(order.reference)).click()
    page.get_by_test_id("approve-button").click()
    expect(page.get_by_test_id("approval-state")).to_have_text("Approved")
    order.refresh_from_db()
    assert order.state == Order.State.APPROVED

    # The shop's server captures and ships: the schedule starts today and goes to client2 by e-mail.
    shop_server_posts(base, shop_key, f"/api/v1/bnpl/orders/{order.pk}/capture/", {})
    shipped = shop_server_posts(
        base,
        shop_key,
        f"/api/v1/bnpl/orders/{order.pk}/ship/",
        {"carrier": "dhl_germany", "tracking_number": "00340434161094015902"},
    )
    assert shipped["state"] == "shipped"

    switch_user(page, base, "client2@example.com")
    page.goto(f"{base}/notifications/dev-outbox/?channel=email")
    mail = page.get_by_test_id("outbox-message").filter(has_text=order.reference).first
    expect(mail).to_contain_text("schedule")
    with page.expect_download() as download:
        mail.get_by_test_id("outbox-attachment").first.click()
    schedule = "".join(p.extract_text() for p in PdfReader(io.BytesIO(Path(download.value.path()).read_bytes())).pages)
    assert order.reference in schedule
