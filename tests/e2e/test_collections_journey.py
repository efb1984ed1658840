"""Collections end to end: backoffice@ opens /bnpl/collections/, downloads the day's pain.008, uploads the
demo bank statement, sees the instalments paid, finds the unmatched transfer in the work inbox and books
it on the overdue instalment it pays."""

import io
import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from bnpl.collections_demo import collections_demo_step
from bnpl.demo import decisions_demo_step, demo_step
from bnpl.fees_demo import fees_demo_step
from bnpl.models import Instalment
from portal.accounts.services import role_groups_ensure
from portal.shell.demo import DEMO_PASSWORD, cast_ensure

from .conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def collections_demo(live_server, settings, tmp_path):
    settings.DEBUG = True  # as `make demo`: the demo statement is offered on the page
    settings.PORTAL_REQUIRE_2FA = False
    settings.SHIPPO_API_KEY = ""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PORTAL_BASE_URL = live_server.url
    role_groups_ensure()
    cast_ensure()
    # The journey reads English texts; the demo's back-office user reads German otherwise.
    get_user_model().objects.filter(email="backoffice@example.com").update(language="en")
    for step in (demo_step, decisions_demo_step, fees_demo_step, collections_demo_step):
        step(scale="small", stdout=io.StringIO())


def test_back_office_imports_the_bank_statement_and_reconciles_the_unmatched_line(
    page: Page, live_server, collections_demo, tmp_path
):
    base = live_server.url
    log_in(page, base, "backoffice@example.com", DEMO_PASSWORD)
    page.get_by_test_id("role-nav").get_by_role("link", name="Collections").click()
    expect(page).to_have_url(re.compile(r"/bnpl/collections/$"))
    runs = page.get_by_test_id("collection-runs")
    expect(runs.locator("tbody tr")).to_have_count(1)

    # The day's direct debit file.
    with page.expect_download() as download:
        runs.get_by_role("link", name="pain.008").click()
    xml = Path(download.value.path()).read_bytes()
    assert download.value.suggested_filename.startswith("pain008-") and b"<CstmrDrctDbtInitn>" in xml
    assert b"DELTA-4001" in xml and b"DELTA-4005" not in xml  # the disputed order is paused

    # The bank's statement: downloaded from the demo link, uploaded as a person would.
    with page.expect_download() as download:
        page.get_by_test_id("demo-statement").get_by_role("link").click()
    statement = tmp_path / download.value.suggested_filename
    download.value.save_as(statement)
    page.get_by_label("Bank statement (camt.053 or camt.054 XML)").set_input_files(str(statement))
    page.get_by_test_id("statement-upload").get_by_role("button", name="Import").click()
    expect(page.get_by_text(re.compile(r"imported: 2 paid, 0 partly paid, 1 returned, 1 unmatched"))).to_be_visible()
    lines = page.get_by_test_id("statement-lines")
    expect(lines.locator("tr[data-outcome=paid]")).to_have_count(2)
    expect(lines.locator("tr[data-outcome=returned]")).to_contain_text("AM04: Insufficient funds")
    expect(lines.locator("tr[data-outcome=paid]").first).to_contain_text("Paid")

    # The transfer without an end-to-end id waits in the work inbox.
    page.get_by_test_id("role-nav").get_by_role("link", name=re.compile("Work inbox")).click()
    page.get_by_label("Kind").select_option(label="Unmatched bank statement line")
    page.get_by_role("button", name="Filter").click()
    item = page.get_by_test_id("inbox-item")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("DELTA-4004")
    item.get_by_test_id("inbox-item-link").click()

    # Booked on the overdue instalment the remittance names (offered first).
    expect(page.get_by_test_id("line-outcome")).to_contain_text("Unmatched")
    form = page.get_by_test_id("line-assign")
    expect(form.get_by_label("Instalment")).to_contain_text("DELTA-4004 · instalment 1")
    form.get_by_label("Note").fill("Paid by transfer, reference in the text")
    form.get_by_role("button", name="Assign").click()
    expect(page.get_by_test_id("line-outcome")).to_contain_text("Assigned by hand")
    assert Instalment.objects.get(plan__order__reference="DELTA-4004", number=1).state == "paid"

    page.goto(f"{base}/backoffice/?kind=bnpl.reconciliation")
    expect(page.get_by_test_id("inbox-item")).to_have_count(0)
