"""Attachments are judged by their bytes, never their name or the browser's word; size is limited."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from signing.validators import JPEG, PDF, PNG, AttachmentTooLarge, attachment_check, attachment_name

from .conftest import jpeg_bytes, pdf_bytes, png_bytes


def file(name, data, content_type="application/pdf"):
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.mark.parametrize(
    ("name", "data", "kind"),
    [
        ("order.pdf", pdf_bytes(), PDF),
        ("scan.png", png_bytes(), PNG),
        ("photo.jpg", jpeg_bytes(), JPEG),
        ("no-extension", pdf_bytes(), PDF),  # the name does not matter
        ("picture.pdf", png_bytes(), PNG),  # nor does a wrong extension
    ],
)
def test_pdf_png_and_jpeg_are_recognised_by_content(name, data, kind):
    assert attachment_check(file(name, data)) == kind


BAD_FILES = [
    ("program.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" * 20),
    ("page.pdf", b"<!doctype html><script>alert(1)</script>"),
    ("drawing.png", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    ("archive.pdf", b"PK\x03\x04" + b"\x00" * 100),
    ("truncated.pdf", b"%PDF-1.7\n1 0 obj<<>>endobj\n"),  # no end-of-file marker
    ("broken.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 50),  # a PNG header, no image
    ("broken.jpg", b"\xff\xd8\xff\xe0" + b"garbage" * 10),
    ("text.pdf", "Überweisung".encode()),
]


@pytest.mark.parametrize(("name", "data"), BAD_FILES)
def test_anything_else_is_refused_with_the_files_name(name, data):
    with pytest.raises(ValidationError) as error:
        attachment_check(file(name, data))
    assert error.value.code == "file_type"
    assert name in error.value.messages[0]


def test_an_empty_file_is_refused():
    with pytest.raises(ValidationError) as error:
        attachment_check(file("empty.pdf", b""))
    assert error.value.code == "empty"


def test_a_file_over_the_limit_is_refused_as_too_large(settings):
    settings.SIGNING_MAX_ATTACHMENT_BYTES = 1000
    with pytest.raises(AttachmentTooLarge) as error:
        attachment_check(file("big.pdf", pdf_bytes() + b"%" * 1000))
    assert "big.pdf" in error.value.messages[0]


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("C:\\Users\\anna\\order.pdf", "order.pdf"),
        ("../../etc/passwd", "passwd"),
        ('a"b<c>.pdf', "abc.pdf"),
        ("line\nbreak.pdf", "linebreak.pdf"),
        ("", "attachment"),
    ],
)
def test_file_names_are_made_safe_to_show_and_to_send_back(raw, shown):
    assert attachment_name(raw) == shown
