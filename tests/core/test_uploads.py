"""The kernel's upload check against the corpus: each good file is accepted as its kind, each bad
one refused with a message that names it; names offered for download follow the detected kind."""

import io
import re

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from PIL import ImageFile
from pypdf import PdfReader

from portal.core.uploads import (
    ALL_KINDS,
    IMAGE_KINDS,
    JPEG,
    PDF,
    PNG,
    UploadTooLarge,
    kind_from_content_type,
    upload_check,
    upload_display_name,
    upload_stored_name,
)
from portal.core.uploads import pdf as uploads_pdf

from .upload_corpus import BAD, GOOD, LIMIT, corpus_bytes, corpus_files, corpus_upload
from .upload_corpus.make_corpus import raw_pdf


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def check(upload, kinds=ALL_KINDS):
    return upload_check(upload, kinds=kinds, max_bytes=LIMIT)


def test_every_file_of_the_corpus_has_an_expected_answer():
    assert corpus_files() == set(GOOD) | set(BAD)


@pytest.mark.parametrize("name", sorted(GOOD))
def test_each_good_file_is_accepted_as_the_kind_its_bytes_say(name):
    upload = corpus_upload(name)
    assert check(upload) == GOOD[name]
    assert upload.tell() == 0  # ready to be stored


@pytest.mark.parametrize("name", sorted(BAD))
def test_each_bad_file_is_refused_with_a_message_that_names_it(name):
    with pytest.raises(ValidationError) as refused:
        check(corpus_upload(name))
    assert refused.value.code == BAD[name]
    assert refused.value.messages[0].startswith(f"{name} ")
    assert isinstance(refused.value, UploadTooLarge) is (BAD[name] == "too_large")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("oversized.pdf", "oversized.pdf is 57.9\xa0KB; files may be at most 48.0\xa0KB."),
        ("empty.pdf", "empty.pdf is empty."),
        ("program_renamed.pdf", "program_renamed.pdf is a program, not a document."),
        ("gif_renamed.png", "gif_renamed.png is not a PDF, PNG or JPEG file."),
        (
            "html_in_pdf_wrapper.pdf",
            "html_in_pdf_wrapper.pdf contains web page, SVG or script code and is not accepted.",
        ),
        (
            "zip_in_valid_pdf.pdf",
            "zip_in_valid_pdf.pdf contains an archive (ZIP or similar) and is not accepted.",
        ),
        (
            "png_with_appended_zip.png",
            "png_with_appended_zip.png has data after the end of the PNG and is not accepted.",
        ),
        (
            "javascript_open_action.pdf",
            "javascript_open_action.pdf contains JavaScript, which is not allowed in a PDF.",
        ),
        (
            "launch_action.pdf",
            "launch_action.pdf contains an action that starts a program, which is not allowed in a PDF.",
        ),
        ("embedded_file.pdf", "embedded_file.pdf contains embedded files, which are not allowed in a PDF."),
        (
            "richmedia_annotation.pdf",
            "richmedia_annotation.pdf contains embedded multimedia, which is not allowed in a PDF.",
        ),
        ("xfa_form.pdf", "xfa_form.pdf contains an XFA form, which is not allowed in a PDF."),
        (
            "encrypted_user_password.pdf",
            "encrypted_user_password.pdf is protected by a password; upload it without the password.",
        ),
        ("no_pages.pdf", "no_pages.pdf has no pages."),
        ("truncated.pdf", "truncated.pdf is a damaged PDF that cannot be read."),
        ("png_truncated.png", "png_truncated.png is a damaged PNG image."),
        ("png_huge_dimensions.png", "png_huge_dimensions.png has 81 megapixels; images may have at most 50."),
        (
            "object_stream_bomb.pdf",
            "object_stream_bomb.pdf is too complex to be checked; save it again (e.g. print it to a new PDF) "
            "and retry.",
        ),
    ],
)
def test_the_messages_say_what_is_wrong(name, message):
    with pytest.raises(ValidationError) as refused:
        check(corpus_upload(name))
    assert refused.value.messages == [message]


@pytest.mark.parametrize(
    "name",
    [
        "javascript_open_action.pdf",
        "javascript_names_tree.pdf",
        "javascript_link_annotation.pdf",
        "javascript_form_field.pdf",
        "javascript_hex_escaped_names.pdf",
        "javascript_in_object_stream.pdf",
        "launch_action.pdf",
        "embedded_file.pdf",
        "file_attachment_annotation.pdf",
        "richmedia_annotation.pdf",
        "xfa_form.pdf",
    ],
)
def test_the_pdf_parser_finds_active_content_on_its_own_not_only_the_byte_scan(name):
    assert uploads_pdf.pdf_problem(corpus_bytes(name)) == BAD[name].removeprefix("pdf_")


@pytest.mark.parametrize("name", ["html_in_valid_pdf.pdf", "zip_in_valid_pdf.pdf", "xml_outside_metadata.pdf"])
def test_the_polyglots_in_valid_pdfs_are_real_pdfs_that_only_the_byte_scan_refuses(name):
    data = corpus_bytes(name)
    assert len(PdfReader(io.BytesIO(data)).pages) == 1
    assert uploads_pdf.pdf_problem(data) is None


@pytest.mark.parametrize("name", ["png_broken_pixels.png", "png_short_pixels.png", "png_truncated.png"])
def test_broken_pngs_are_refused_even_once_weasyprint_told_pillow_to_load_truncated_images(monkeypatch, name):
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)  # as `import weasyprint` does
    with pytest.raises(ValidationError) as refused:
        check(corpus_upload(name))
    assert refused.value.code == "image_damaged"


def test_neither_the_name_nor_the_browsers_type_matters():
    upload = corpus_upload("good_pypdf.pdf", as_name="invoice.exe", content_type="application/x-msdownload")
    assert check(upload) == PDF
    upload = corpus_upload("good_photo.png", as_name="photo.pdf", content_type="application/pdf")
    assert check(upload) == PNG


def test_a_caller_may_accept_only_some_kinds():
    with pytest.raises(ValidationError) as refused:
        check(corpus_upload("good_pypdf.pdf", as_name="scan.pdf"), kinds=IMAGE_KINDS)
    assert (refused.value.code, refused.value.messages) == ("file_type", ["scan.pdf is not a PNG or JPEG file."])
    assert check(corpus_upload("good_photo.jpg"), kinds=IMAGE_KINDS) == JPEG
    with pytest.raises(ValidationError) as refused:
        check(corpus_upload("good_photo.png", as_name="id.png"), kinds=[PDF])
    assert refused.value.messages == ["id.png is not a PDF file."]


def test_the_size_is_measured_on_the_bytes_not_on_what_the_upload_claims():
    upload = corpus_upload("oversized.pdf")
    upload.size = 10
    with pytest.raises(UploadTooLarge):
        check(upload)
    assert upload.tell() == 0


def test_a_message_never_carries_the_uploaders_markup_or_control_characters():
    upload = SimpleUploadedFile('<b>"x"\u202e\n.pdf', b"")
    with pytest.raises(ValidationError) as refused:
        check(upload)
    assert refused.value.messages == ["bx .pdf is empty."]


# --- large PDFs: read in a child process with limits ---------------------------------------------


@pytest.fixture
def child_reads_every_pdf(monkeypatch):
    """Every PDF goes to the child process, as one over 64 KiB does."""
    monkeypatch.setattr(uploads_pdf, "PDF_IN_PROCESS_BYTES", 0)
    calls = []
    real = uploads_pdf.pdf_inspect_in_child
    monkeypatch.setattr(uploads_pdf, "pdf_inspect_in_child", lambda data: calls.append(len(data)) or real(data))
    return calls


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("good_weasyprint.pdf", None),
        ("good_owner_password_only.pdf", None),
        ("javascript_in_object_stream.pdf", "javascript"),
        ("encrypted_user_password.pdf", "encrypted"),
        ("deeply_nested.pdf", "damaged"),
        ("garbage.pdf", "damaged"),
        ("object_stream_bomb.pdf", "complex"),
    ],
)
def test_the_child_process_gives_the_same_answers(child_reads_every_pdf, name, expected):
    assert uploads_pdf.pdf_problem(corpus_bytes(name)) == expected
    assert child_reads_every_pdf == [len(corpus_bytes(name))]


def test_a_pdf_larger_than_the_in_process_limit_goes_to_the_child(child_reads_every_pdf, monkeypatch):
    monkeypatch.setattr(uploads_pdf, "PDF_IN_PROCESS_BYTES", 64 * 1024)
    data = _many_objects_pdf(1_000)
    assert len(data) > 64 * 1024
    assert upload_check(SimpleUploadedFile("report.pdf", data), kinds=ALL_KINDS, max_bytes=len(data)) == PDF
    assert child_reads_every_pdf == [len(data)]


def test_a_pdf_that_keeps_the_reader_busy_past_its_cpu_time_is_refused_as_too_complex(
    child_reads_every_pdf, monkeypatch
):
    monkeypatch.setattr(uploads_pdf, "PDF_CHILD_CPU_SECONDS", 1)
    data = _many_objects_pdf(24_000, values=40)  # tens of seconds of pypdf
    with pytest.raises(ValidationError) as refused:
        upload_check(SimpleUploadedFile("report.pdf", data), kinds=ALL_KINDS, max_bytes=len(data))
    assert refused.value.code == "pdf_complex"


def test_a_pdf_with_more_objects_than_the_child_reads_is_refused_as_too_complex(child_reads_every_pdf):
    assert uploads_pdf.pdf_problem(_many_objects_pdf(26_000)) == "complex"


def _many_objects_pdf(count: int, *, values: int = 10) -> bytes:
    objects = {1: b"<</Type/Catalog/Pages 2 0 R>>", 2: b"<</Type/Pages/Kids[3 0 R]/Count 1>>"}
    objects[3] = b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>"
    filler = b"<</A[%s]/B(abc)/C<</D 1>>>>" % b" ".join(b"%d" % n for n in range(values))
    for number in range(4, count):
        objects[number] = filler
    return raw_pdf(objects)


# --- names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uploaded", "kind", "offered"),
    [
        ("invoice.exe", PDF, "invoice.pdf"),
        ("contract.html", PDF, "contract.pdf"),
        ("order.pdf", PDF, "order.pdf"),
        ("scan.jpeg", JPEG, "scan.jpg"),
        ("photo", PNG, "photo.png"),
        ("archive.tar.gz", PDF, "archive.tar.pdf"),
        ("Report v1.2 final", PDF, "Report v1.2 final.pdf"),
        ("C:\\Users\\anna\\order.exe", PDF, "order.pdf"),
        ("../../etc/passwd", PDF, "passwd.pdf"),
        ('a"b<c>:d|e?.pdf', PDF, "abcde.pdf"),
        ("line\nbreak\t.pdf", PDF, "line break.pdf"),
        ("invoice\u202efdp.exe", PDF, "invoicefdp.pdf"),  # a right-to-left override would show "exe.pdf"
        ("Überweisung März.pdf", PDF, "Überweisung März.pdf"),
        ("", PNG, "file.png"),
        ("...", PDF, "file.pdf"),
    ],
)
def test_the_offered_name_is_the_uploaders_made_safe_with_the_detected_extension(uploaded, kind, offered):
    assert upload_display_name(uploaded, kind) == offered


def test_a_long_name_is_cut_and_keeps_the_detected_extension():
    offered = upload_display_name("x" * 300 + ".exe", PDF)
    assert offered == "x" * 96 + ".pdf"


def test_stored_names_are_random_with_the_detected_extension():
    first, second = upload_stored_name(PDF), upload_stored_name(PDF)
    assert re.fullmatch(r"[0-9a-f]{32}\.pdf", first) and first != second
    assert upload_stored_name(JPEG).endswith(".jpg")


@pytest.mark.parametrize(
    ("content_type", "kind"),
    [("application/pdf", PDF), ("image/PNG", PNG), ("image/jpeg; charset=binary", JPEG), ("text/html", None)],
)
def test_a_recorded_content_type_gives_back_its_kind(content_type, kind):
    assert kind_from_content_type(content_type) == kind
