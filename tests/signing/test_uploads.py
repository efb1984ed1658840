"""Attachments through the broker's pages and the API, against the upload corpus: every bad file
is refused with its message (413 when too large) and leaves no row and no file; a good file is
stored under a random name and offered under the uploader's name with the detected extension."""

import html
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from portal.core.uploads import ALL_KINDS, upload_check
from signing.models import SignatureAttachment, SignatureRequest
from tests.core.upload_corpus import BAD, LIMIT, corpus_bytes, corpus_upload

from .conftest import transfer
from .test_api import LIST, body
from .test_permissions import CLIENT_SIDE, EVERYONE, SENDER_SIDE, expected
from .test_views import NEW, transfer_form

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _limit(settings):
    settings.SIGNING_MAX_ATTACHMENT_BYTES = LIMIT


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def stored_files() -> list[Path]:
    return [path for path in Path(django_settings.MEDIA_ROOT).rglob("*") if path.is_file()]


def message_for(name: str) -> str:
    """The kernel's message for a corpus file, in English (as the broker's pages and the API answer)."""
    try:
        with translation.override("en"):
            upload_check(corpus_upload(name), kinds=ALL_KINDS, max_bytes=LIMIT)
    except ValidationError as refused:
        return refused.messages[0]
    raise AssertionError(f"{name} was accepted")


def status_for(name: str) -> int:
    return 413 if BAD[name] == "too_large" else 400


@pytest.mark.parametrize("name", sorted(BAD))
def test_the_form_page_refuses_each_bad_file_and_stores_nothing(cast, book, login_as, name):
    broker = login_as(cast.broker1)
    response = broker.post(f"{NEW}?kind=fund_transfer", transfer_form(book, attachments=[corpus_upload(name)]))

    assert response.status_code == status_for(name)
    assert html.escape(message_for(name)) in response.text
    assert not SignatureRequest.objects.exists() and not SignatureAttachment.objects.exists()
    assert stored_files() == []


@pytest.mark.parametrize("name", sorted(BAD))
def test_the_api_refuses_each_bad_file_and_stores_nothing(cast, book, login_as, name):
    response = login_as(cast.broker1).post(LIST, {**body(book), "attachments": [corpus_upload(name)], "send": "true"})

    assert response.status_code == status_for(name)
    error = response.json()["error"]
    if BAD[name] == "too_large":
        assert error["code"] == "too_large" and error["message"] == message_for(name)
    else:
        assert error["details"]["attachments"] == [message_for(name)]
    assert not SignatureRequest.objects.exists() and not SignatureAttachment.objects.exists()
    assert stored_files() == []


@pytest.mark.parametrize(
    "name", ["zip_in_pdf_wrapper.pdf", "javascript_open_action.pdf", "png_with_appended_zip.png", "oversized.pdf"]
)
def test_adding_a_bad_file_to_a_draft_changes_nothing(cast, book, login_as, name):
    request = transfer(cast.broker1, book.anna, send=False)
    before = (request.content_hash, sorted(stored_files()))
    broker = login_as(cast.broker1)

    response = broker.post(reverse("signing:attachment-add", args=[request.pk]), {"file": corpus_upload(name)})

    assert response.status_code == (413 if name == "oversized.pdf" else 302)
    page = broker.get(reverse("signing:request-detail", args=[request.pk]))
    if name != "oversized.pdf":
        assert html.escape(message_for(name)) in page.text
    request.refresh_from_db()
    assert (request.content_hash, sorted(stored_files())) == before
    assert request.attachments.count() == 1


def test_one_bad_file_among_good_ones_refuses_them_all(cast, book, login_as):
    files = [corpus_upload("good_pypdf.pdf"), corpus_upload("embedded_file.pdf"), corpus_upload("good_photo.png")]
    response = login_as(cast.broker1).post(f"{NEW}?kind=fund_transfer", transfer_form(book, attachments=files))

    assert response.status_code == 400
    assert not SignatureAttachment.objects.exists() and stored_files() == []


# --- a good file under a lying name --------------------------------------------------------------


@pytest.fixture
def invoice(cast, book, login_as):
    """A sent request whose attachment is a real PDF the broker uploaded as `invoice.exe`."""
    upload = corpus_upload("good_pypdf.pdf", as_name="invoice.exe", content_type="application/x-msdownload")
    response = login_as(cast.broker1).post(f"{NEW}?kind=fund_transfer", transfer_form(book, attachments=[upload]))
    assert response.status_code == 302
    request = SignatureRequest.objects.get()
    login_as(cast.broker1).post(reverse("signing:request-send", args=[request.pk]))
    request.refresh_from_db()
    assert request.status == SignatureRequest.Status.SENT
    return request.attachments.get()


def test_a_pdf_uploaded_as_exe_is_stored_as_a_pdf_under_a_random_name(invoice):
    assert (invoice.name, invoice.content_type) == ("invoice.pdf", "application/pdf")
    stored = Path(invoice.file.name)
    assert stored.suffix == ".pdf" and "invoice" not in stored.name and len(stored.stem) == 32
    assert Path(invoice.file.path).read_bytes() == corpus_bytes("good_pypdf.pdf")


def test_it_is_downloaded_as_invoice_pdf_with_its_type_and_nosniff(invoice, cast, login_as):
    url = reverse("signing:attachment", args=[invoice.request_id, invoice.pk])
    response = login_as(cast.client1).get(f"{url}?download=1")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == 'attachment; filename="invoice.pdf"'
    assert b"".join(response.streaming_content) == corpus_bytes("good_pypdf.pdf")

    shown = login_as(cast.client1).get(url)  # the browser's viewer
    assert shown["Content-Disposition"] == 'inline; filename="invoice.pdf"'
    assert shown["Content-Type"] == "application/pdf" and shown["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("user", EVERYONE)
def test_it_is_downloaded_only_by_the_people_the_signing_policy_allows(invoice, cast, login_as, user):
    url = reverse("signing:attachment", args=[invoice.request_id, invoice.pk])
    response = login_as(getattr(cast, user)).get(f"{url}?download=1")
    assert response.status_code == expected(user, SENDER_SIDE | CLIENT_SIDE)


def test_the_api_names_an_html_named_pdf_by_what_it_is(cast, book, login_as):
    upload = corpus_upload("good_weasyprint.pdf", as_name="contract.html", content_type="text/html")
    response = login_as(cast.broker1).post(LIST, {**body(book), "attachments": [upload]})

    assert response.status_code == 201
    [attachment] = response.json()["attachments"]
    assert (attachment["name"], attachment["content_type"]) == ("contract.pdf", "application/pdf")


def test_an_image_is_served_as_the_image_it_is(cast, book, login_as):
    upload = corpus_upload("good_photo.jpg", as_name="scan.png", content_type="image/png")
    request = transfer(cast.broker1, book.anna, send=False, attachments=[upload])
    attachment = request.attachments.get()
    assert (attachment.name, attachment.content_type) == ("scan.jpg", "image/jpeg")

    response = login_as(cast.broker1).get(reverse("signing:attachment", args=[request.pk, attachment.pk]))
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"] == 'inline; filename="scan.jpg"'


# --- rows stored before names followed the detected kind ------------------------------------------


def _legacy(request, *, name: str, content_type: str) -> SignatureAttachment:
    """A row as the earlier code wrote it: the uploader's name kept, the file stored as .bin."""
    attachment = request.attachments.get()
    SignatureAttachment.objects.filter(pk=attachment.pk).update(name=name, content_type=content_type)
    return SignatureAttachment.objects.get(pk=attachment.pk)


def test_an_older_row_named_exe_is_still_offered_as_a_pdf(cast, book, login_as):
    request = transfer(cast.broker1, book.anna, send=False)
    attachment = _legacy(request, name="invoice.exe", content_type="application/pdf")

    response = login_as(cast.broker1).get(
        reverse("signing:attachment", args=[request.pk, attachment.pk]) + "?download=1"
    )
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="invoice.pdf"'


def test_a_row_of_an_unknown_type_is_only_ever_downloaded_as_bytes(cast, book, login_as):
    request = transfer(cast.broker1, book.anna, send=False)
    attachment = _legacy(request, name="page.html", content_type="text/html")

    response = login_as(cast.broker1).get(reverse("signing:attachment", args=[request.pk, attachment.pk]))
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == 'attachment; filename="page.bin"'
    assert response["X-Content-Type-Options"] == "nosniff"
