"""The upload corpus: every file here, what it is, and how `upload_check` must answer it.

The files are written by `make_corpus.py` and committed. Tests check every bad file with a
limit of `LIMIT` bytes (only `oversized.pdf` is bigger).
"""

from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile

from portal.core import uploads

HERE = Path(__file__).resolve().parent
LIMIT = 48 * 1024

GOOD = {
    "good_weasyprint.pdf": uploads.PDF,  # object streams and a cross-reference stream
    "good_pypdf.pdf": uploads.PDF,
    "good_xmp_metadata.pdf": uploads.PDF,  # `<?xml` in its metadata stream
    "good_owner_password_only.pdf": uploads.PDF,  # encrypted, opens without a password
    "good_uri_link.pdf": uploads.PDF,  # a link to a web page is not an action we refuse
    "good_photo.png": uploads.PNG,
    "good_xmp.png": uploads.PNG,  # `<?xml` in its XMP chunk
    "good_interlaced.png": uploads.PNG,
    "good_photo.jpg": uploads.JPEG,
    "good_progressive.jpg": uploads.JPEG,
    "good_xmp.jpg": uploads.JPEG,  # `<?xml` in its XMP segment
    "good_multi_picture.jpg": uploads.JPEG,  # a second image after the first, as phones store depth maps
}

# File name -> the ValidationError code it must be refused with.
BAD = {
    "html_in_pdf_wrapper.pdf": "polyglot_markup",
    "svg_in_pdf_wrapper.pdf": "polyglot_markup",
    "zip_in_pdf_wrapper.pdf": "polyglot_archive",
    "html_in_valid_pdf.pdf": "polyglot_markup",
    "zip_in_valid_pdf.pdf": "polyglot_archive",
    "zip_after_valid_pdf.pdf": "trailing_data",
    "xml_outside_metadata.pdf": "polyglot_markup",
    "javascript_open_action.pdf": "pdf_javascript",
    "javascript_names_tree.pdf": "pdf_javascript",
    "javascript_link_annotation.pdf": "pdf_javascript",
    "javascript_form_field.pdf": "pdf_javascript",
    "javascript_hex_escaped_names.pdf": "pdf_javascript",
    "javascript_in_object_stream.pdf": "pdf_javascript",
    "launch_action.pdf": "pdf_launch",
    "embedded_file.pdf": "pdf_embedded",
    "file_attachment_annotation.pdf": "pdf_embedded",
    "richmedia_annotation.pdf": "pdf_richmedia",
    "xfa_form.pdf": "pdf_xfa",
    "encrypted_user_password.pdf": "pdf_encrypted",
    "truncated.pdf": "pdf_damaged",
    "garbage.pdf": "pdf_damaged",
    "no_pages.pdf": "pdf_no_pages",
    "deeply_nested.pdf": "pdf_damaged",
    "page_tree_loop.pdf": "pdf_damaged",
    "object_stream_bomb.pdf": "pdf_complex",
    "png_with_appended_zip.png": "trailing_data",
    "png_with_zip_in_text_chunk.png": "polyglot_archive",
    "png_with_xml_outside_xmp.png": "polyglot_markup",
    "jpeg_with_appended_html.jpg": "trailing_data",
    "jpeg_with_html_in_comment.jpg": "polyglot_markup",
    "png_truncated.png": "image_damaged",
    "png_broken_pixels.png": "image_damaged",
    "png_huge_dimensions.png": "image_too_big",
    "png_short_pixels.png": "image_damaged",  # fewer scanlines than its header says
    "jpeg_truncated.jpg": "image_damaged",
    "program_renamed.pdf": "executable",
    "linux_program_renamed.jpg": "executable",
    "html_renamed.pdf": "file_type",
    "svg_renamed.png": "file_type",
    "gif_renamed.png": "file_type",
    "empty.pdf": "empty",
    "oversized.pdf": "too_large",
}


def corpus_bytes(name: str) -> bytes:
    return (HERE / name).read_bytes()


def corpus_upload(name: str, *, as_name: str | None = None, content_type: str = "application/pdf"):
    """The corpus file as a browser would send it (under `as_name` if given)."""
    return SimpleUploadedFile(as_name or name, corpus_bytes(name), content_type=content_type)


def corpus_files() -> set[str]:
    return {path.name for path in HERE.iterdir() if path.suffix in {".pdf", ".png", ".jpg"}}
