"""Uploaded files judged by their bytes, never by their name or the browser's word.

`upload_check` decides what an upload is (PDF, PNG or JPEG, of the kinds the caller accepts)
and refuses anything that is something else as well: a file that also carries a web page, an
SVG, a script or a ZIP archive (a polyglot), a PDF that runs JavaScript, starts programs or
carries files, an image with data after its end. A refusal is a ValidationError whose message
names the file; `UploadTooLarge` (a subclass) lets pages and the API answer 413.

How markup is recognised. A browser decides a file is HTML only from its first bytes, and our
kinds start with their own signature, so the marks below are a second line behind the content
type, `nosniff` and attachment disposition. We refuse the tags that make a page or a script
(`<html`, `<head`, `<body`, `<script`, `<iframe`, `<object`, `<embed`, `<svg`, `<!doctype`, also
with a namespace prefix) wherever they stand, when followed by what ends a tag name. Compressed
data (PDF streams, image pixels) holds random bytes, so `<svg` must also be followed by a few
characters of text: without that, about one 10 MB upload in 2,000 would be refused by chance.
The XML declaration (`<?xml`) is refused too, except inside the file's own XMP metadata (a PDF
stream of /Type /Metadata, a PNG iTXt chunk or JPEG APP1 segment of Adobe's XMP), where PDF
writers and cameras put it.

ZIP and JAR containers are found by their records (local file header, central directory,
end-of-central-directory) anywhere in the file, checked for the fields every ZIP reader needs,
not by the bare four-byte `PK` signatures: those turn up by chance in about one compressed
10 MB file in 200.

The package is the kernel's: it imports nothing from other portal packages or apps. Here the
check and the names; `kinds` the accepted kinds; `pdf` the PDF reading (in a child process with
limits, when large); `images` PNG and JPEG; `polyglots` markup, scripts and archives inside.
"""

import re
import unicodedata
import uuid
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.text import get_text_list
from django.utils.translation import gettext as _

from .images import JPEG_SIGNATURE, PNG_SIGNATURE, image_check, jpeg_layout, png_layout
from .kinds import ALL_KINDS, IMAGE_KINDS, JPEG, PDF, PNG, UNKNOWN_KIND, FileKind
from .pdf import PDF_HEADER, pdf_check

__all__ = [
    "ALL_KINDS",
    "IMAGE_KINDS",
    "JPEG",
    "PDF",
    "PNG",
    "UNKNOWN_KIND",
    "FileKind",
    "UploadTooLarge",
    "kind_from_content_type",
    "kind_from_extension",
    "upload_check",
    "upload_display_name",
    "upload_shown_name",
    "upload_stored_name",
]

_EXECUTABLES = (
    b"MZ",  # Windows and DOS programs
    b"\x7fELF",  # Linux programs
    b"\xfe\xed\xfa\xce",  # Mach-O, both word sizes and byte orders
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",  # Mach-O universal binaries and Java classes
    b"#!",  # scripts
)


class UploadTooLarge(ValidationError):
    """An upload over the size limit (pages and the API answer 413)."""


def upload_check(upload, *, kinds: Iterable[FileKind], max_bytes: int) -> FileKind:
    """The upload's kind, decided by its content; ValidationError when it is not one of `kinds` or unsafe.

    Reads at most `max_bytes` + 1 bytes and leaves the file at its start.
    """
    kinds = tuple(kinds)
    shown = upload_shown_name(getattr(upload, "name", "") or "")
    upload.seek(0)
    data = upload.read(max_bytes + 1)
    upload.seek(0)
    if len(data) > max_bytes:
        size = max(getattr(upload, "size", None) or 0, len(data))
        raise UploadTooLarge(
            _("%(name)s is %(size)s; files may be at most %(limit)s."),
            code="too_large",
            params={"name": shown, "size": filesizeformat(size), "limit": filesizeformat(max_bytes)},
        )
    if not data:
        raise ValidationError(_("%(name)s is empty."), code="empty", params={"name": shown})
    if data.startswith(_EXECUTABLES):
        raise ValidationError(_("%(name)s is a program, not a document."), code="executable", params={"name": shown})
    kind = kind_by_signature(data)
    if kind not in kinds:
        raise ValidationError(
            _("%(name)s is not a %(kinds)s file."),
            code="file_type",
            params={"name": shown, "kinds": get_text_list([k.label for k in kinds], _("or"))},
        )
    if kind is PDF:
        pdf_check(data, shown)
    elif kind is PNG:
        image_check(data, shown, kind, png_layout(data))
    else:
        image_check(data, shown, kind, jpeg_layout(data))
    return kind


def upload_stored_name(kind: FileKind) -> str:
    """A random file name for storage, with the extension of the detected kind."""
    return f"{uuid.uuid4().hex}.{kind.extension}"


def upload_display_name(name: str, kind: FileKind) -> str:
    """The uploader's name made safe, with the detected kind's extension: `invoice.exe` holding a PDF is `invoice.pdf`."""
    stem = _safe_name(name)
    head, dot, extension = stem.rpartition(".")
    if dot and head and re.fullmatch(r"[A-Za-z0-9]{1,10}", extension):
        stem = head.rstrip(". ")
    return f"{stem or 'file'}.{kind.extension}"


def upload_shown_name(name: str) -> str:
    """The uploader's name as they gave it (extension included), safe to put in a message."""
    return _safe_name(name) or _("the file")


def kind_from_content_type(content_type: str) -> FileKind | None:
    """The kind recorded as `content_type` (as upload_check returned it), or None for anything else."""
    value = (content_type or "").split(";", 1)[0].strip().lower()
    return next((kind for kind in ALL_KINDS if kind.content_type == value), None)


def kind_from_extension(extension: str) -> FileKind | None:
    value = (extension or "").lstrip(".").lower()
    return next((kind for kind in ALL_KINDS if kind.extension == value), None)


# --- names -------------------------------------------------------------------------------------


def _safe_name(name: str) -> str:
    """The last path part, without control or formatting characters (bidi overrides), quotes or
    characters Windows forbids, spaces collapsed, at most 100 characters."""
    name = unicodedata.normalize("NFC", str(name or "")).replace("\\", "/").rsplit("/", 1)[-1]
    kept = "".join(
        " " if ch.isspace() else ch
        for ch in name
        if ch.isspace() or (unicodedata.category(ch)[0] != "C" and ch not in "\"'<>:*?|`")
    )
    kept = re.sub(r" {2,}", " ", kept).strip(" .")
    if len(kept) > 100:
        head, dot, extension = kept.rpartition(".")
        kept = (head[: 99 - len(extension)] + dot + extension) if dot and len(extension) <= 10 else kept[:100]
    return kept


def kind_by_signature(data: bytes) -> FileKind | None:
    if PDF_HEADER.match(data):
        return PDF
    if data.startswith(PNG_SIGNATURE):
        return PNG
    if data.startswith(JPEG_SIGNATURE):
        return JPEG
    return None
