"""In a real browser, as back office: the fees page explains that a shopper's fee status decides
their fees, and a credit decision opens in admin as evidence to read, with nothing to save."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from bnpl.decision_rules import credit_rule_create
from bnpl.decisions import decide_order
from bnpl.models import FeeSchedule, FeeStatus, Order
from tests.conftest import login

from .factories import OrderFactory, ShopperFactory, merchant_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def backoffice_page(browser, live_server, client, cast):
    login(client, cast.backoffice)
    context = browser.new_context(locale="en-GB")
    host = live_server.url.split("//")[1].split(":")[0]
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "domain": host, "path": "/"}]
    )
    page = context.new_page()
    yield page
    context.close()


def fee_schedule(scope, **fields):
    values = {
        "currency": "EUR",
        "late_fee_amount": Decimal("5.00"),
        "grace_days": 5,
        "dunning_fee_amount": Decimal("2.50"),
        "cap_per_instalment": Decimal("10.00"),
        "cap_share_of_purchase": Decimal("10.00"),
        "valid_from": date(2026, 1, 1),
    }
    return FeeSchedule.objects.create(scope=scope, **values | fields)


def test_back_office_sees_a_loyal_shoppers_status_schedule_apply(backoffice_page, live_server, cast):
    shopper = ShopperFactory(user=cast.client2, region="DE-BY")
    fee_schedule("default")
    fee_schedule("status", status="loyal", late_fee_amount=Decimal("2.00"))
    FeeStatus.objects.create(shopper=shopper, status="loyal")
    page = backoffice_page

    page.goto(f"{live_server.url}/bnpl/fees/")
    page.get_by_label("Shopper's e-mail").first.fill(cast.client2.email)
    page.get_by_role("button", name="Show").click()

    resolution = page.get_by_test_id("fee-resolution")
    resolution.wait_for()
    assert resolution.get_attribute("data-level") == "status"
    applying = resolution.locator("li.fw-bold")
    assert "Fee status" in applying.inner_text() and "Loyal" in applying.inner_text()
    assert "2.00 EUR late fee" in applying.inner_text()
    assert "overruled" in resolution.locator("li", has_text="Default").inner_text()


def test_back_office_reads_a_decisions_trace_in_admin_with_nothing_to_save(backoffice_page, live_server, cast):
    shop = merchant_for(cast.merchant.organisation, actor=cast.admin)
    shopper = ShopperFactory(
        user=cast.client2, date_of_birth=date(1990, 1, 1), kyc_passed=True, kyc_passed_at=timezone.now()
    )
    credit_rule_create(actor=cast.backoffice, name="Adults only", fact="age", operator="ge", value="18")
    order = OrderFactory(merchant=shop, shopper=shopper, amount=Decimal("250.00"), state=Order.State.PENDING_DECISION)
    decision = decide_order(order_id=order.pk)
    page = backoffice_page

    page.goto(f"{live_server.url}/admin/bnpl/creditdecision/")
    row = page.locator("#result_list tbody tr", has_text=order.reference)
    row.locator("th a").click()

    assert f"/admin/bnpl/creditdecision/{decision.pk}/change/" in page.url
    expect(page.get_by_role("cell", name="Adults only")).to_be_visible()
    expect(page.get_by_role("cell", name="age ge 18")).to_be_visible()
    assert page.get_by_role("button", name="Save").count() == 0
    assert page.get_by_role("link", name="Delete").count() == 0
