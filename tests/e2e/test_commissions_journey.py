"""broker1 follows a commission to its source and downloads the statement; broker2 finds nothing of it."""

import subprocess

import pytest
from playwright.sync_api import Page, expect

from commissions import services
from commissions.models import Statement
from tests.commissions.conftest import SEPTEMBER, plans  # noqa: F401
from tests.factories import PASSWORD

from .conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_broker_drills_down_to_a_source_and_a_colleague_sees_nothing(
    page: Page,
    live_server,
    settings,
    workspace,
    cast,
    plans,  # noqa: F811 (the fixture imported above)
    tmp_path,
):
    settings.PORTAL_REQUIRE_2FA = False
    settings.MEDIA_ROOT = tmp_path
    services.month_accrue(period=SEPTEMBER)
    services.month_close_start(actor=cast.admin, period=SEPTEMBER)
    services.month_close_finish(period=SEPTEMBER)
    statement = Statement.objects.get(beneficiary=cast.broker1, period=SEPTEMBER)

    log_in(page, live_server.url, cast.broker1.email, PASSWORD)
    page.get_by_test_id("role-nav").get_by_role("link", name="Commissions").click()
    page.get_by_role("link", name="September 2026").click()
    expect(page.get_by_test_id("statement-status")).to_have_text("In review")
    expect(page.get_by_test_id("by-client")).to_contain_text("Anna Albers")
    page.get_by_label("Kind").select_option("upfront")
    page.get_by_role("button", name="Filter").click()
    page.get_by_test_id("accrual-table").get_by_role("link").first.click()
    expect(page.get_by_test_id("accrual-source")).to_contain_text("Transaction from the core system")
    page.get_by_role("link", name="September 2026").click()  # the breadcrumb back to the month
    with page.expect_download() as download:
        page.get_by_test_id("statement-pdf").click()
    text = subprocess.run(
        ["pdftotext", str(download.value.path()), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "September 2026" in text and cast.broker1.email in text

    page.goto("about:blank")  # the old page stops polling first: a late answer must not set a cookie

    page.context.clear_cookies()
    log_in(page, live_server.url, cast.broker2.email, PASSWORD)
    for url in (f"/commissions/{statement.pk}/", f"/commissions/{statement.pk}/statement.pdf"):
        assert page.goto(f"{live_server.url}{url}").status == 404
    page.goto(f"{live_server.url}/commissions/")
    expect(page.get_by_test_id("statement-table")).not_to_contain_text(str(statement.total))
