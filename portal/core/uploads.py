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

This module is the kernel's: it imports nothing from other portal packages or apps.
"""

import io
import logging
import re
import resource
import struct
import subprocess
import sys
import unicodedata
import uuid
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from PIL import Image
from pypdf import PasswordType, PdfReader, apply_configuration
from pypdf.errors import LimitReachedError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject, StreamObject

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileKind:
    content_type: str
    extension: str
    label: str


PDF = FileKind("application/pdf", "pdf", "PDF")
PNG = FileKind("image/png", "png", "PNG")
JPEG = FileKind("image/jpeg", "jpg", "JPEG")
ALL_KINDS = (PDF, PNG, JPEG)
IMAGE_KINDS = (PNG, JPEG)
# What a stored file whose recorded type is none of ours is served as: a download, never shown.
UNKNOWN_KIND = FileKind("application/octet-stream", "bin", "")

# Images beyond this many pixels are refused before they are decoded (50 megapixels: more than a
# phone camera's usual photo, about 150 MB once decoded).
MAX_IMAGE_PIXELS = 50_000_000
# pypdf is pure Python: a hostile 10 MB PDF can keep it busy for minutes. A PDF small enough
# that the work is bounded for certain (a file of at most 64 KiB with at most two object
# streams, each inflating to at most 64 KiB: a second or two at worst) is read in this process;
# anything bigger is read in a child process with CPU-time, memory and wall-clock limits, so a
# request never hangs on it and a bomb only kills the child.
PDF_IN_PROCESS_BYTES = 64 * 1024
PDF_CHILD_CPU_SECONDS = 10
PDF_CHILD_WALL_SECONDS = 20
PDF_CHILD_MEMORY_BYTES = 1024 * 1024 * 1024


@dataclass(frozen=True)
class _PdfLimits:
    objects: int  # indirect objects in the cross-reference table
    object_streams: int  # streams those objects are packed in (each inflates to `stream` bytes at most)
    values: int  # values looked at inside them
    inflated: int  # bytes inflated from object streams, in all
    stream: int  # bytes one stream may inflate to (pypdf's limit)

    def configuration(self) -> dict:
        return {
            "zlib_maximum_output_length": self.stream,
            "lzw_maximum_output_length": self.stream,
            "run_length_maximum_output_length": self.stream,
            "brotli_maximum_output_length": self.stream,
            "array_based_stream_maximum_output_length": self.stream,
            "page_tree_maximum_entries": 20_000,
            "page_tree_maximum_depth": 50,
            "form_fields_maximum_entries": 20_000,
            "form_fields_maximum_depth": 50,
        }


_PDF_IN_PROCESS = _PdfLimits(objects=2_000, object_streams=2, values=40_000, inflated=64 * 1024, stream=64 * 1024)
_PDF_IN_CHILD = _PdfLimits(
    objects=25_000, object_streams=5_000, values=2_000_000, inflated=64 * 1024 * 1024, stream=16 * 1024 * 1024
)
# After a file's end marker, at most this many bytes of padding (NUL or whitespace) are allowed.
MAX_PADDING = 64
# JPEG files may hold further complete JPEG images after the first (phones store depth and HDR
# gain maps so); more than this many are refused.
MAX_EXTRA_JPEGS = 8

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
_PDF_HEADER = re.compile(rb"%PDF-\d\.\d")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_SIGNATURE = b"\xff\xd8\xff"
_PREFIX = rb"(?:[a-z][a-z0-9._-]*:)?"
_MARKUP = re.compile(
    rb"<(?:!doctype\s|"
    + _PREFIX
    + rb"(?:html|head|body|script|iframe|object|embed)[\s/>]|"
    + _PREFIX
    + rb"svg[\s/>][\t\n\r\x20-\x7e]{6})",
    re.IGNORECASE,
)
_XML_DECLARATION = re.compile(rb"<\?xml[\s-]", re.IGNORECASE)
_ZIP_RECORD = re.compile(rb"PK(?:\x03\x04|\x01\x02|\x05\x06)")
_OTHER_ARCHIVES = re.compile(rb"Rar!\x1a\x07|7z\xbc\xaf\x27\x1c")
# Compression methods a ZIP reader knows (APPNOTE 4.4.5); a record naming another is noise.
_ZIP_METHODS = frozenset({0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 12, 14, 18, 19, 93, 94, 95, 96, 97, 98, 99})
_XMP_PNG_KEYWORD = b"XML:com.adobe.xmp\x00"
_XMP_JPEG_PREFIXES = (b"http://ns.adobe.com/xap/1.0/\x00", b"http://ns.adobe.com/xmp/extension/\x00")
_PADDING = re.compile(rb"[\x00\t\n\f\r ]*\Z")


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
    kind = _kind_by_signature(data)
    if kind not in kinds:
        raise ValidationError(
            _("%(name)s is not a %(kinds)s file."),
            code="file_type",
            params={"name": shown, "kinds": get_text_list([k.label for k in kinds], _("or"))},
        )
    if kind is PDF:
        _pdf_check(data, shown)
    elif kind is PNG:
        _image_check(data, shown, kind, _png_layout(data))
    else:
        _image_check(data, shown, kind, _jpeg_layout(data))
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


# --- what a file is ----------------------------------------------------------------------------


def _kind_by_signature(data: bytes) -> FileKind | None:
    if _PDF_HEADER.match(data):
        return PDF
    if data.startswith(_PNG_SIGNATURE):
        return PNG
    if data.startswith(_JPEG_SIGNATURE):
        return JPEG
    return None


def _foreign_content_check(data: bytes, shown: str, *, xmp: list[tuple[int, int]]) -> None:
    """Refuse a file that also carries markup, a script or an archive; `xmp` are ranges where `<?xml` belongs."""
    markup = _MARKUP.search(data)
    if markup is None:
        markup = next((m for m in _XML_DECLARATION.finditer(data) if not _inside(m.start(), xmp)), None)
    if markup is not None:
        raise ValidationError(
            _("%(name)s contains web page, SVG or script code and is not accepted."),
            code="polyglot_markup",
            params={"name": shown},
        )
    if _zip_inside(data) or _OTHER_ARCHIVES.search(data):
        raise ValidationError(
            _("%(name)s contains an archive (ZIP or similar) and is not accepted."),
            code="polyglot_archive",
            params={"name": shown},
        )


def _inside(position: int, ranges: list[tuple[int, int]]) -> bool:
    return any(start <= position < end for start, end in ranges)


def _zip_inside(data: bytes) -> bool:
    for match in _ZIP_RECORD.finditer(data):
        at, record = match.start(), match.group()[2:]
        if record == b"\x03\x04" and at + 10 <= len(data):  # local file header
            version, method = data[at + 4], struct.unpack_from("<H", data, at + 8)[0]
        elif record == b"\x01\x02" and at + 12 <= len(data):  # central directory entry
            version, method = data[at + 6], struct.unpack_from("<H", data, at + 10)[0]
        elif record == b"\x05\x06" and at + 22 <= len(data):  # end of central directory
            # Readers find the directory from here; it must fit before this record (ZIP64 marks it 0xFFFFFFFF).
            size, offset = struct.unpack_from("<II", data, at + 12)
            if 0xFFFFFFFF in (size, offset) or size + offset <= at:
                return True
            continue
        else:
            continue
        if version <= 63 and method in _ZIP_METHODS:
            return True
    return False


def _trailer_check(data: bytes, end: int, shown: str, kind: FileKind) -> None:
    rest = data[end:]
    if len(rest) > MAX_PADDING or not _PADDING.match(rest):
        raise ValidationError(
            _("%(name)s has data after the end of the %(kind)s and is not accepted."),
            code="trailing_data",
            params={"name": shown, "kind": kind.label},
        )


# --- PDF ----------------------------------------------------------------------------------------

# Names that make a PDF act (JavaScript, starting programs) or carry other files or media.
_PDF_VALUE_NAMES = {
    "/JavaScript": "javascript",
    "/Launch": "launch",
    "/EmbeddedFile": "embedded",
    "/FileAttachment": "embedded",
    "/GoToE": "embedded",
    "/RichMedia": "richmedia",
}
_PDF_KEY_NAMES = {
    "/JS": "javascript",
    "/JavaScript": "javascript",
    "/EmbeddedFiles": "embedded",
    "/RichMediaContent": "richmedia",
    "/XFA": "xfa",
}


def _pdf_raw_name(name: str) -> re.Pattern:
    """`name` (with its slash) as it may stand in a file: any character may be written as #xx."""
    parts = []
    for ch in name[1:]:
        hexa = "".join(f"[{d.lower()}{d.upper()}]" if d.isalpha() else d for d in f"{ord(ch):02x}")
        parts.append(f"(?:{re.escape(ch)}|#{hexa})")
    return re.compile(("/" + "".join(parts) + r"(?=[\s/<>\[\]()%{}]|\Z)").encode())


# The same names found in the file's bytes, without a parser: should a PDF viewer repair a file
# differently from pypdf and find objects pypdf does not, their names are still seen here (names
# of five letters or more only: shorter ones turn up by chance in compressed data).
_PDF_RAW_NAMES = [
    (_pdf_raw_name(name), problem) for name, problem in {**_PDF_VALUE_NAMES, **_PDF_KEY_NAMES}.items() if len(name) > 5
]


def _pdf_problem_message(problem: str) -> str:
    return {
        "javascript": _("%(name)s contains JavaScript, which is not allowed in a PDF."),
        "launch": _("%(name)s contains an action that starts a program, which is not allowed in a PDF."),
        "embedded": _("%(name)s contains embedded files, which are not allowed in a PDF."),
        "richmedia": _("%(name)s contains embedded multimedia, which is not allowed in a PDF."),
        "xfa": _("%(name)s contains an XFA form, which is not allowed in a PDF."),
        "encrypted": _("%(name)s is protected by a password; upload it without the password."),
        "no_pages": _("%(name)s has no pages."),
        "complex": _("%(name)s is too complex to be checked; save it again (e.g. print it to a new PDF) and retry."),
        "damaged": _("%(name)s is a damaged PDF that cannot be read."),
    }[problem]


def _pdf_check(data: bytes, shown: str) -> None:
    end = data.rfind(b"%%EOF")
    if end < 0:
        raise ValidationError(_pdf_problem_message("damaged"), code="pdf_damaged", params={"name": shown})
    _trailer_check(data, end + len(b"%%EOF"), shown, PDF)
    _foreign_content_check(data, shown, xmp=_pdf_metadata_ranges(data))
    problem = next((problem for pattern, problem in _PDF_RAW_NAMES if pattern.search(data)), None)
    problem = problem or _pdf_problem(data)
    if problem:
        raise ValidationError(_pdf_problem_message(problem), code=f"pdf_{problem}", params={"name": shown})


def _pdf_problem(data: bytes) -> str | None:
    if len(data) <= PDF_IN_PROCESS_BYTES:
        try:
            return _pdf_inspect(data, _PDF_IN_PROCESS)
        except (_PdfTooMuchWork, LimitReachedError):
            pass  # more work than this process takes on: the child reads it
        except Exception:  # hostile bytes make pypdf fail in ways no list of its errors covers
            return "damaged"
    return _pdf_inspect_in_child(data)


def _pdf_inspect_in_child(data: bytes) -> str | None:
    command = [sys.executable, "-I", __file__, "--pdf-probe", str(PDF_CHILD_CPU_SECONDS), str(PDF_CHILD_MEMORY_BYTES)]
    try:
        # Our own interpreter and this file; the untrusted bytes go to its standard input only.
        done = subprocess.run(  # noqa: S603
            command, input=data, capture_output=True, timeout=PDF_CHILD_WALL_SECONDS, check=False
        )
    except subprocess.TimeoutExpired:
        return "complex"
    except OSError:  # no interpreter to start: refuse rather than accept unread
        logger.exception("The PDF check could not start its child process.")
        return "complex"
    answer = done.stdout.decode("ascii", "replace").strip()
    if done.returncode != 0 or answer not in _PDF_ANSWERS:
        return "complex"  # killed by its CPU-time or memory limit
    return None if answer == "ok" else answer


def _pdf_probe_main(cpu_seconds: int, memory_bytes: int) -> None:
    """The child process: limit itself, read the PDF from stdin, print its problem or "ok"."""
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    data = sys.stdin.buffer.read()
    try:
        problem = _pdf_inspect(data, _PDF_IN_CHILD)
    except (_PdfTooMuchWork, LimitReachedError):
        problem = "complex"
    except Exception:  # as in the parent: any failure on hostile bytes is a damaged file
        problem = "damaged"
    sys.stdout.write(problem or "ok")


class _PdfTooMuchWork(Exception):
    """The document needs more work than the limits in force allow."""


_PDF_ANSWERS = {
    "ok",
    "javascript",
    "launch",
    "embedded",
    "richmedia",
    "xfa",
    "encrypted",
    "no_pages",
    "complex",
    "damaged",
}


def _pdf_metadata_ranges(data: bytes) -> list[tuple[int, int]]:
    """Where the data of streams of /Type /Metadata stand, for the `<?xml` their XMP begins with."""
    ranges = []
    for match in _XML_DECLARATION.finditer(data):
        at = match.start()
        start = data.rfind(b"stream", 0, at)
        if start < 3 or data[start - 3 : start] == b"end":
            continue  # not inside a stream
        header = data.rfind(b" obj", 0, start)
        dictionary = data[header:start] if header >= 0 else b""
        if re.search(rb"/Type\s*/Metadata(?![^\s/<>\[\]()%{}])", dictionary) and re.search(
            rb"/Subtype\s*/XML(?![^\s/<>\[\]()%{}])", dictionary
        ):
            stop = data.find(b"endstream", at)
            ranges.append((start, stop if stop >= 0 else len(data)))
    return ranges


def _pdf_inspect(data: bytes, limits: _PdfLimits) -> str | None:
    """The first problem pypdf finds in the document's objects, or None; _PdfTooMuchWork past `limits`."""
    with apply_configuration(**limits.configuration()):
        reader = PdfReader(io.BytesIO(data), strict=False, xref_stream_maximum_entries=limits.objects)
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            return "encrypted"
        plain = [(idnum, generation) for generation, table in reader.xref.items() for idnum in table]
        packed = [(idnum, 0) for idnum in reader.xref_objStm]
        object_streams = {stream for stream, _index in reader.xref_objStm.values()}
        if len(plain) + len(packed) > limits.objects or len(object_streams) > limits.object_streams:
            raise _PdfTooMuchWork
        budget = _PdfBudget(limits)
        problem = _pdf_values_check(reader.trailer, budget)
        # Plain objects first: the object streams among them are measured before their objects are read.
        for idnum, generation in [*plain, *packed]:
            if problem:
                return problem
            obj = reader.get_object(IndirectObject(idnum, generation, reader))
            if obj is None:
                continue
            if isinstance(obj, StreamObject) and obj.get("/Type") == "/ObjStm":
                budget.inflate(len(obj.get_data()))
            problem = _pdf_values_check(obj, budget)
        if problem:
            return problem
        if len(reader.pages) == 0:
            return "no_pages"
    return None


class _PdfBudget:
    def __init__(self, limits: _PdfLimits):
        self.limits, self.values, self.inflated = limits, 0, 0

    def inflate(self, size: int) -> None:
        self.inflated += size
        if self.inflated > self.limits.inflated:
            raise _PdfTooMuchWork

    def look(self) -> None:
        self.values += 1
        if self.values > self.limits.values:
            raise _PdfTooMuchWork


def _pdf_values_check(root, budget: _PdfBudget) -> str | None:
    """Walk one object's direct values (references are not followed: every object is walked on its own)."""
    stack = [root]
    while stack:
        value = stack.pop()
        budget.look()
        if isinstance(value, NameObject):
            if value in _PDF_VALUE_NAMES:
                return _PDF_VALUE_NAMES[value]
        elif isinstance(value, DictionaryObject):
            for key in value:
                if key in _PDF_KEY_NAMES:
                    return _PDF_KEY_NAMES[key]
            if "/EF" in value and ("/F" in value or "/UF" in value or value.get("/Type") == "/Filespec"):
                return "embedded"  # a file specification that carries the file itself
            stack.extend(value.values())
        elif isinstance(value, ArrayObject):
            stack.extend(value)
    return None


# --- images -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Layout:
    end: int  # where the image ends (after IEND / the last EOI)
    xmp: list[tuple[int, int]]
    header: bytes = b""  # PNG: the IHDR chunk's data
    pixels: tuple[tuple[int, int], ...] = ()  # PNG: where the IDAT chunks' data stand


def _image_check(data: bytes, shown: str, kind: FileKind, layout: _Layout | None) -> None:
    damaged = ValidationError(
        _("%(name)s is a damaged %(kind)s image."), code="image_damaged", params={"name": shown, "kind": kind.label}
    )
    if layout is None:
        raise damaged
    _trailer_check(data, layout.end, shown, kind)
    _foreign_content_check(data, shown, xmp=layout.xmp)
    try:
        with Image.open(io.BytesIO(data), formats=[kind.label]) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise ValidationError(
                    _("%(name)s has %(pixels)s megapixels; images may have at most %(limit)s."),
                    code="image_too_big",
                    params={
                        "name": shown,
                        "pixels": round(width * height / 1_000_000),
                        "limit": MAX_IMAGE_PIXELS // 1_000_000,
                    },
                )
            if kind is PNG and not _png_pixels_complete(data, layout):
                raise damaged
            if kind is JPEG:
                image.draft(image.mode, (max(width // 8, 1), max(height // 8, 1)))  # every byte read, less memory
            image.load()
    except ValidationError:
        raise
    except Exception:  # Pillow's decoders raise many types on hostile bytes
        raise damaged from None


def _png_layout(data: bytes) -> _Layout | None:
    """Walk the chunks (checking each CRC) to IEND; None when the structure is broken."""
    at, xmp, first, header, pixels = len(_PNG_SIGNATURE), [], True, b"", []
    while at + 12 <= len(data):
        length, chunk_type = struct.unpack_from(">I4s", data, at)
        body_end = at + 8 + length
        if not chunk_type.isalpha() or body_end + 4 > len(data) or (first and chunk_type != b"IHDR"):
            return None
        (crc,) = struct.unpack_from(">I", data, body_end)
        if zlib.crc32(data[at + 4 : body_end]) != crc:
            return None
        if chunk_type == b"iTXt" and data.startswith(_XMP_PNG_KEYWORD, at + 8):
            xmp.append((at + 8, body_end))
        elif chunk_type == b"IHDR":
            header = data[at + 8 : body_end]
        elif chunk_type == b"IDAT":
            pixels.append((at + 8, body_end))
        at, first = body_end + 4, False
        if chunk_type == b"IEND":
            return _Layout(end=at, xmp=xmp, header=header, pixels=tuple(pixels))
    return None


# Adam7 interlacing: each pass's first column and row, and steps.
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def _png_pixels_complete(data: bytes, layout: _Layout) -> bool:
    """The IDAT data inflates, checksum included, to exactly the scanlines IHDR announces.

    Checked here because Pillow skips broken pixel data once `ImageFile.LOAD_TRUNCATED_IMAGES`
    is set, and WeasyPrint sets it for the whole process when it is imported.
    """
    if len(layout.header) != 13 or not layout.pixels:
        return False
    width, height, depth, color, _compression, _filter, interlace = struct.unpack(">IIBBBBB", layout.header)
    if color not in _PNG_CHANNELS or depth not in (1, 2, 4, 8, 16) or interlace not in (0, 1):
        return False
    bits = _PNG_CHANNELS[color] * depth
    passes = _ADAM7 if interlace else ((0, 0, 1, 1),)
    expected = 0
    for x0, y0, dx, dy in passes:
        columns, rows = max(0, -(-(width - x0) // dx)), max(0, -(-(height - y0) // dy))
        if columns and rows:
            expected += rows * (1 + -(-columns * bits // 8))
    inflater, produced = zlib.decompressobj(), 0
    try:
        for start, end in layout.pixels:
            chunk = data[start:end]
            while chunk:
                produced += len(inflater.decompress(chunk, 1024 * 1024))
                if produced > expected:
                    return False
                chunk = inflater.unconsumed_tail
    except zlib.error:
        return False
    return inflater.eof and produced == expected and not inflater.unused_data


_JPEG_SCAN_END = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")


def _jpeg_layout(data: bytes) -> _Layout | None:
    """Walk the segments and scans to the last EOI; None when the structure is broken."""
    xmp: list[tuple[int, int]] = []
    at, images = 0, 0
    while images == 0 or (data.startswith(_JPEG_SIGNATURE, at) and images <= MAX_EXTRA_JPEGS):
        at = _jpeg_image_end(data, at, xmp)
        if at is None:
            return None
        images += 1
    return _Layout(end=at, xmp=xmp)


def _jpeg_image_end(data: bytes, at: int, xmp: list) -> int | None:
    if not data.startswith(b"\xff\xd8", at):
        return None
    at += 2
    while at + 2 <= len(data):
        if data[at] != 0xFF:
            return None
        while at + 1 < len(data) and data[at + 1] == 0xFF:  # fill bytes
            at += 1
        marker = data[at + 1] if at + 1 < len(data) else None
        if marker is None:
            return None
        if marker == 0xD9:  # end of image
            return at + 2
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            at += 2
            continue
        if at + 4 > len(data):
            return None
        (length,) = struct.unpack_from(">H", data, at + 2)
        segment_end = at + 2 + length
        if length < 2 or segment_end > len(data):
            return None
        if marker == 0xE1 and data.startswith(_XMP_JPEG_PREFIXES, at + 4):
            xmp.append((at + 4, segment_end))
        at = segment_end
        if marker == 0xDA:  # start of scan: entropy-coded data runs to the next real marker
            found = _JPEG_SCAN_END.search(data, at)
            if found is None:
                return None
            at = found.start()
    return None


if __name__ == "__main__" and sys.argv[1:2] == ["--pdf-probe"]:
    _pdf_probe_main(int(sys.argv[2]), int(sys.argv[3]))
