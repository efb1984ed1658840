"""backoffice@ opens a signed request's back-office page, asks for its evidence pack, watches it
build (eagerly in tests) and downloads the ZIP: summary, audit trail, documents and manifests."""

import hashlib
import json
import zipfile

import pytest
from playwright.sync_api import Page, expect

from signing import pdf
from tests.factories import PASSWORD
from tests.signing.conftest import book, request_code, sign, transfer, upload  # noqa: F401 (the client book)

from .conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_back_office_downloads_the_evidence_pack_of_a_signed_request(
    page: Page,
    live_server,
    settings,
    tmp_path,
    cast,
    book,  # noqa: F811 (the fixture imported above)
):
    settings.PORTAL_REQUIRE_2FA = False
    settings.MEDIA_ROOT = tmp_path / "media"
    request = transfer(cast.broker1, book.anna, attachments=[upload("order.pdf")])
    sign(request, cast.client1, request_code(request, cast.client1))
    pdf.signed_pdf_render(request_id=request.pk)  # done already by the task at commit; a no-op then

    log_in(page, live_server.url, cast.backoffice.email, PASSWORD)
    page.goto(f"{live_server.url}/signing/backoffice/{request.pk}/")
    panel = page.get_by_test_id("evidence-panel")
    expect(panel).to_be_visible()
    panel.get_by_role("button", name="Evidence pack").click()

    download_link = page.get_by_test_id("evidence-download")
    expect(download_link).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("evidence-panel")).to_have_attribute("data-state", "ready")
    expect(page.get_by_test_id("evidence-progress")).to_have_count(0)
    shown_hash = page.get_by_test_id("evidence-sha256").inner_text()

    with page.expect_download() as download_info:
        download_link.click()
    path = download_info.value.path()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == shown_hash
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        assert {"summary.pdf", "audit_events.csv", "manifest.json", "manifest.csv", "documents/order.pdf"} <= names
        manifest = json.loads(archive.read("manifest.json"))
        for entry in manifest["files"]:
            assert hashlib.sha256(archive.read(entry["path"])).hexdigest() == entry["sha256"]
        assert "evidence.pack_requested" in archive.read("audit_events.csv").decode("utf-8-sig")

    # The page again: the panel offers the ready pack and a new one.
    page.reload()
    expect(page.get_by_test_id("evidence-download")).to_be_visible()
    expect(page.get_by_role("button", name="New evidence pack")).to_be_visible()
