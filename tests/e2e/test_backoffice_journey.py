"""backoffice@ logs in, sees on the home page what waits and that approving needs a second factor, and
reaches admin, the audit trail and commissions from the menu. A notification written in German reads
in English for a reader whose language is English."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from commissions.models import Statement
from commissions.services import STATEMENT_KIND
from portal.accounts.roles import Role
from portal.approvals.services import approval_request
from portal.notifications.services import notify
from reports.models import Report
from signing.inbox import signed_request_inbox_open
from signing.models import SignatureRequest
from tests.factories import PASSWORD, UserFactory

from .conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def waiting_work(cast) -> None:
    request = SignatureRequest.objects.create(
        kind=SignatureRequest.Kind.DOCUMENT,
        status=SignatureRequest.Status.SIGNED,
        sender=cast.broker1,
        organisation=cast.alpha,
        recipient=cast.client1,
        title="Account opening",
        signed_at=timezone.now(),
    )
    signed_request_inbox_open(request)  # as signing does when the client signs
    statement = Statement.objects.create(
        beneficiary=cast.broker1,
        firm=cast.alpha,
        period=date(2026, 9, 1),
        status=Statement.Status.PREPARED,
        prepared_by=cast.admin,
        total=Decimal("42.00"),
    )
    # as the month's closing asks: the approval waits in the work inbox
    approval_request(kind=STATEMENT_KIND, obj=statement, maker=cast.admin, amount=statement.total, currency="EUR")
    Report.objects.create(
        requested_by=cast.broker1,
        kind="inducements",
        broker=cast.broker1,
        period_start=date(2026, 1, 1),
        period_end=date(2026, 3, 31),
        status=Report.Status.FAILED,
    )


def test_the_back_office_sees_its_work_and_reaches_admin_audit_trail_and_commissions(
    page: Page, live_server, settings, cast
):
    settings.PORTAL_REQUIRE_2FA = False  # as in the demo: nobody is made to enrol
    waiting_work(cast)

    log_in(page, live_server.url, cast.backoffice.email, PASSWORD)

    counters = page.get_by_test_id("work-count")
    expect(counters).to_have_count(6)  # signed requests, statements, reports, BNPL purchases, disputes, bank lines
    expect(counters.filter(has_text="Signed requests waiting").get_by_test_id("work-count-figure")).to_have_text("1")
    expect(
        counters.filter(has_text="Commission statements to approve").get_by_test_id("work-count-figure")
    ).to_have_text("1")
    expect(counters.filter(has_text="Reports failed").get_by_test_id("work-count-figure")).to_have_text("1")
    notice = page.get_by_test_id("second-factor-notice")
    expect(notice).to_contain_text("needs a second factor, and you have none yet")
    expect(notice.get_by_role("link", name="Set up an authenticator app")).to_have_attribute(
        "href", "/accounts/2fa/setup/?next=/backoffice/%3Fkind%3Dcommissions.statement"
    )
    home = page.url

    nav = page.get_by_test_id("role-nav")
    nav.get_by_role("link", name="Admin", exact=True).click()
    expect(page.locator("#site-name")).to_contain_text("Partnerzone back office")

    page.goto(home)
    nav.get_by_role("link", name="Audit trail").click()
    expect(page.locator("#result_list")).to_contain_text("Signed in")
    expect(page.locator("#changelist-filter")).to_contain_text("Signed in")

    page.goto(home)
    nav.get_by_role("link", name="Commissions").click()
    expect(page.get_by_test_id("statement-list-title")).to_have_text("Commissions")
    expect(page.get_by_test_id("statement-table")).to_contain_text("42.00 EUR")
    expect(page.get_by_test_id("statement-totals")).to_contain_text("Total of 1 statement")

    page.goto(home)
    page.get_by_role("link", name="Commission statements to approve").click()
    expect(page).to_have_url(f"{live_server.url}/backoffice/?kind=commissions.statement")
    expect(page.get_by_role("main")).to_contain_text(str(cast.broker1))


def test_a_notification_written_in_german_reads_in_english_for_an_english_reader(
    page: Page, live_server, settings, cast
):
    settings.PORTAL_REQUIRE_2FA = False
    reader = UserFactory(email="greta@example.com", first_name="Greta", language="de", roles=[Role.PARTNER_AGENT])
    notify(user=reader, event="account.welcome")  # written while she read German
    reader.language = "en"
    reader.save(update_fields=["language"])

    log_in(page, live_server.url, reader.email, PASSWORD)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_test_id("latest-notification")).to_have_text("Welcome to Partnerzone")
    page.get_by_test_id("notification-bell").click()
    expect(page.get_by_test_id("unread-notification")).to_contain_text("Welcome to Partnerzone")
    page.get_by_test_id("unread-menu").get_by_role("link", name="All notifications").click()
    expect(page.get_by_test_id("notification-list")).to_contain_text("Hello Greta, your Partnerzone account is ready.")

    page.get_by_test_id("language-menu").click()
    page.get_by_role("button", name="Deutsch").click()
    expect(page.get_by_test_id("notification-list")).to_contain_text("Willkommen bei Partnerzone")
