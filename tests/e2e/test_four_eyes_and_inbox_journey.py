"""Issue 13's "Done means", walked in the browser.

admin@ closes September in Django admin, which prepares the statements and asks for their approval;
on the approval's page admin@ (the preparer) finds no approve button, and a forged POST to the
approve address is refused. backoffice@ (signed in with a second factor) finds the statement in the
work inbox, approves it and marks it paid in admin; broker1 then sees it paid. backoffice@ claims a
signed request from the inbox, writes an internal note on its thread and marks it processed: the
item leaves the open list, and the client's page of the signed document never shows the note.
"""

import json
import re

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from commissions import services
from commissions.models import CommissionMonth, Statement
from portal.approvals.models import Approval
from portal.inbox.models import WorkItem
from portal.threads.models import Message
from signing.inbox import KIND as SIGNED_REQUEST
from signing.models import SignatureRequest
from tests.commissions.conftest import SEPTEMBER, plans  # noqa: F401 (the commission plans fixture)
from tests.factories import PASSWORD
from tests.signing.conftest import request_code, sign, transfer

from .conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NOTE = "Checked the IBAN against the core system by phone: booked."


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def verified_log_in(page: Page, base_url: str, user, device: TOTPDevice) -> None:
    """Password, then a code from the authenticator app: the session has a verified second factor."""
    log_in(page, base_url, user.email, PASSWORD)
    page.get_by_label("Code", exact=True).fill(f"{TOTP(device.bin_key).token():06d}")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_test_id("role-nav")).to_be_visible()


def admin_action(page: Page, row_text: str, action: str) -> None:
    """Tick the changelist row showing `row_text`, choose `action` and run it."""
    page.locator("#result_list tbody tr").filter(has_text=row_text).get_by_role("checkbox").check()
    page.locator("select[name=action]").select_option(label=action)
    page.get_by_role("button", name="Go").click()


def test_four_eyes_on_a_statement_and_an_internal_note_on_a_processed_request(
    page: Page,
    browser,
    browser_context_args,
    live_server,
    settings,
    cast,
    workspace,
    plans,  # noqa: F811 (the fixture imported above)
):
    settings.PORTAL_REQUIRE_2FA = False
    base = live_server.url
    services.month_accrue(period=SEPTEMBER)  # the nightly run computed September as it went
    september = CommissionMonth.objects.get(period=SEPTEMBER)
    assert september.status == CommissionMonth.Status.OPEN
    signed = transfer(cast.broker1, workspace.anna, payee_name="Clara Schmidt")
    sign(signed, cast.client1, request_code(signed, cast.client1))
    devices = {
        user: TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
        for user in (cast.admin, cast.backoffice)
    }

    # admin@ (with a verified second factor, so only four eyes stands in the way) closes September in
    # Django admin: the statements are prepared, their approvals asked for.
    verified_log_in(page, base, cast.admin, devices[cast.admin])
    page.get_by_test_id("role-nav").get_by_role("link", name="Admin", exact=True).click()
    page.get_by_role("link", name="Commission months", exact=True).click()
    admin_action(page, "1 September 2026", "Close the selected months and prepare their statements")
    expect(page.locator(".messagelist")).to_contain_text("2026-09 is closing; statements follow.")
    month_row = page.locator("#result_list tbody tr").filter(has_text="1 September 2026")
    expect(month_row.locator("td.field-status")).to_have_text("Closed")  # closing ran at once (eager tasks)
    assert CommissionMonth.objects.get(period=SEPTEMBER).status == CommissionMonth.Status.CLOSED
    statement = Statement.objects.get(beneficiary=cast.broker1, period=SEPTEMBER)
    assert statement.status == Statement.Status.PREPARED and statement.prepared_by == cast.admin
    approval = Approval.objects.get(kind="commissions.statement", object_id=statement.pk)
    subject = approval.subject
    assert approval.state == Approval.State.PENDING and approval.maker == cast.admin

    # The same admin opens the approval: no approve button, and a forged POST changes nothing.
    page.goto(f"{base}/")
    page.get_by_test_id("role-nav").get_by_role("link", name="Approvals").click()
    page.get_by_test_id(f"approval-{approval.pk}").get_by_role("link", name=subject).click()
    expect(page).to_have_url(re.compile(rf"/approvals/{approval.pk}/$"))
    expect(page.get_by_test_id("approval-state")).to_have_text("Pending")
    expect(page.get_by_test_id("approval-maker")).to_contain_text(str(cast.admin))
    expect(page.get_by_test_id("approve-button")).to_have_count(0)
    expect(page.get_by_test_id("reject-button")).to_have_count(0)
    expect(page.get_by_test_id("no-decision")).to_have_text("You asked for this approval; someone else must decide it.")
    token = json.loads(page.locator("body").get_attribute("hx-headers"))["X-CSRFToken"]
    forged = page.request.post(
        f"{base}/approvals/{approval.pk}/approve/",
        form={"reason": "Looks fine to me."},
        headers={"X-CSRFToken": token, "Referer": page.url},
    )
    assert forged.status == 400
    assert "You asked for this approval; someone else must decide it." in forged.text()
    approval.refresh_from_db()
    statement.refresh_from_db()
    assert approval.state == Approval.State.PENDING and not approval.decisions.exists()
    assert statement.status == Statement.Status.PREPARED and statement.approved_by is None
    page.reload()
    expect(page.get_by_test_id("approval-state")).to_have_text("Pending")
    # Nor is it waiting in the admin's own work inbox: a maker's case is someone else's work.
    item = WorkItem.objects.get(kind="commissions.statement", object_id=approval.pk)
    page.get_by_test_id("role-nav").get_by_role("link", name=re.compile("Work inbox")).click()
    expect(page.get_by_test_id("inbox-title")).to_have_text("Work inbox")
    expect(page.locator(f"#item-{item.pk}")).to_have_count(0)

    # backoffice@ finds the statement in the work inbox and approves it, then pays it out in admin.
    office = browser.new_context(**browser_context_args).new_page()
    verified_log_in(office, base, cast.backoffice, devices[cast.backoffice])
    nav = office.get_by_test_id("role-nav")
    nav.get_by_role("link", name=re.compile("Work inbox")).click()
    office.get_by_label("Kind").select_option(label="Commission statement")
    office.get_by_role("button", name="Filter").click()
    row = office.locator(f"#item-{item.pk}")
    expect(row).to_contain_text(subject)
    row.get_by_test_id("inbox-item-link").click()
    expect(office).to_have_url(re.compile(rf"/approvals/{approval.pk}/$"))
    expect(office.get_by_test_id("second-factor-notice")).to_have_count(0)
    office.get_by_test_id("approve-button").click()
    expect(office.get_by_test_id("approval-state")).to_have_text("Approved")
    expect(office.get_by_test_id("approval-decisions")).to_contain_text(str(cast.backoffice))
    statement.refresh_from_db()
    assert statement.status == Statement.Status.APPROVED and statement.approved_by == cast.backoffice

    nav.get_by_role("link", name="Admin", exact=True).click()
    office.get_by_role("link", name="Commission statements", exact=True).click()
    admin_action(office, str(cast.broker1), "Mark the selected statements paid (needs a second factor)")
    expect(office.locator(".messagelist")).to_contain_text("1 statement marked paid.")
    statement.refresh_from_db()
    assert statement.status == Statement.Status.PAID

    # broker1 sees September paid.
    page.goto("about:blank")  # the old page stops polling first: a late answer must not set a cookie
    page.context.clear_cookies()
    log_in(page, base, cast.broker1.email, PASSWORD)
    page.get_by_test_id("role-nav").get_by_role("link", name="Commissions").click()
    expect(page.get_by_test_id(f"statement-{statement.pk}")).to_contain_text("Paid")
    page.get_by_role("link", name="September 2026").click()
    expect(page.get_by_test_id("statement-status")).to_have_text("Paid")

    # backoffice@ claims the signed request, notes internally on its thread and marks it processed.
    item = WorkItem.objects.get(kind=SIGNED_REQUEST, object_id=signed.pk)
    office.goto(f"{base}/")
    nav.get_by_role("link", name=re.compile("Work inbox")).click()
    office.get_by_label("Kind").select_option(label="Signed request")
    office.get_by_role("button", name="Filter").click()
    row = office.locator(f"#item-{item.pk}")
    row.get_by_test_id("claim").click()
    expect(row.get_by_test_id("inbox-assignee")).to_have_text("You")
    row.get_by_test_id("inbox-item-link").click()
    expect(office).to_have_url(re.compile(rf"/signing/backoffice/{signed.pk}/$"))
    panel = office.get_by_test_id("thread-panel")
    panel.get_by_label("Your message").fill(NOTE)
    panel.get_by_label("Internal note (staff only, never shown to the customer)").check()
    panel.get_by_role("button", name="Send").click()
    expect(panel.get_by_test_id("thread-note")).to_contain_text(NOTE)
    expect(panel.get_by_test_id("thread-note")).to_contain_text("Internal note")
    office.get_by_test_id("mark-processed").click()
    expect(office.get_by_test_id("status")).to_have_text("Processed")
    assert SignatureRequest.objects.get(pk=signed.pk).status == SignatureRequest.Status.PROCESSED
    assert list(Message.objects.values_list("body", "internal")) == [(NOTE, True)]

    office.get_by_role("link", name="Work inbox", exact=True).first.click()
    expect(office.get_by_test_id("inbox-title")).to_have_text("Work inbox")
    expect(office.locator(f"#item-{item.pk}")).to_have_count(0)
    expect(office.get_by_test_id("inbox-empty")).to_be_visible()
    office.context.close()

    # The client opens the signed document: the conversation is there, the note is not.
    page.goto("about:blank")  # the old page stops polling first: a late answer must not set a cookie
    page.context.clear_cookies()
    log_in(page, base, cast.client1.email, PASSWORD)
    page.goto(f"{base}/client/sign/{signed.pk}/")
    expect(page.get_by_test_id("signed-note")).to_be_visible()
    expect(page.get_by_test_id("thread-panel")).to_be_visible()
    expect(page.get_by_test_id("thread-note")).to_have_count(0)
    expect(page.get_by_test_id("thread-internal")).to_have_count(0)
    expect(page.get_by_role("main")).not_to_contain_text(NOTE)
