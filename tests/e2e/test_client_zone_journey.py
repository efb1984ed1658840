"""The client zone end to end: client1 logs in, lands on the zone's home, sees what waits for their
signature, downloads a signed PDF from Documents and finds their adviser."""

import re

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import Page, expect

from signing.models import SignatureEvidence, SigningCodeSend
from tests.factories import PASSWORD
from tests.signing.conftest import book, pdf_bytes, request_code, sign, transfer  # noqa: F401 (the client book)

from .conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_a_client_finds_what_waits_their_documents_and_their_adviser(
    page: Page,
    live_server,
    settings,
    cast,
    book,  # noqa: F811 (the fixture imported above)
    tmp_path,
):
    settings.PORTAL_REQUIRE_2FA = False
    cast.broker1.first_name, cast.broker1.last_name, cast.broker1.phone = "Boris", "Brandt", "+4915100000004"
    cast.broker1.save()
    waiting = transfer(cast.broker1, book.anna, attachments=[], payee_name="Max Mustermann", amount="2500.00")
    signed = transfer(cast.broker1, book.anna, attachments=[], payee_name="Hausverwaltung Weber", amount="300.00")
    sign(signed, cast.client1, request_code(signed, cast.client1))
    SigningCodeSend.objects.update(created_at="2000-01-01T00:00:00Z")
    evidence = SignatureEvidence.objects.get(request=signed)
    evidence.pdf.save("signed.pdf", ContentFile(pdf_bytes("Signed transfer")), save=True)
    base = live_server.url

    # client1 logs in and lands on the client zone's home, with what waits for their signature.
    log_in(page, base, cast.client1.email, PASSWORD)
    expect(page).to_have_url(f"{base}/client/")
    expect(page.get_by_role("heading", name="Welcome, Anna Albers")).to_be_visible()
    nav = page.get_by_test_id("role-nav")
    expect(nav.get_by_role("link", name="Home")).to_have_class(re.compile(r"\bactive\b"))
    panel = page.get_by_test_id("zone-waiting")
    expect(panel.get_by_role("heading", name="What waits for you")).to_be_visible()
    expect(panel.get_by_test_id("waiting-request")).to_have_count(1)
    expect(panel).to_contain_text(waiting.title)
    expect(panel.get_by_role("link", name="Read and sign")).to_have_attribute("href", f"/client/sign/{waiting.pk}/")

    # Documents: the signed request, new until downloaded; the download is the signed PDF.
    nav.get_by_role("link", name="Documents", exact=True).click()
    expect(page).to_have_url(f"{base}/client/documents/")
    section = page.get_by_test_id("documents-signed_requests")
    row = section.get_by_test_id("document")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(signed.title)
    expect(row.get_by_test_id("new-badge")).to_be_visible()
    with page.expect_download() as download:
        row.get_by_role("link", name="Download").click()
    path = tmp_path / "downloaded.pdf"
    download.value.save_as(path)
    assert download.value.suggested_filename == f"{signed.short_reference}-signed.pdf"
    assert path.read_bytes() == pdf_bytes("Signed transfer")
    page.reload()
    expect(page.get_by_test_id("documents-signed_requests").get_by_test_id("new-badge")).to_have_count(0)

    # My adviser: broker1's name, firm, e-mail and phone.
    nav.get_by_role("link", name="My adviser").click()
    expect(page).to_have_url(f"{base}/client/adviser/")
    expect(page.get_by_test_id("adviser-name")).to_have_text("Boris Brandt")
    expect(page.get_by_test_id("adviser-firm")).to_have_text("Alpha Invest")
    expect(page.get_by_test_id("adviser-email")).to_have_text("broker1@example.com")
    expect(page.get_by_test_id("adviser-phone")).to_contain_text("+4915100000004")
    expect(nav.get_by_role("link", name="My adviser")).to_have_class(re.compile(r"\bactive\b"))

    # "Documents to sign" is part of the zone: the request opens at its zone address.
    nav.get_by_role("link", name="Documents to sign").click()
    expect(page).to_have_url(f"{base}/client/sign/")
    page.get_by_role("link", name=re.compile(r"Max Mustermann")).click()
    expect(page).to_have_url(f"{base}/client/sign/{waiting.pk}/")
    expect(nav.get_by_role("link", name="Documents to sign")).to_have_class(re.compile(r"\bactive\b"))
