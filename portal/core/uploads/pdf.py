"""PDFs read with pypdf: refused when they run JavaScript, start programs, carry files or media,
are encrypted, damaged or too much work to read (in a child process with limits, when large)."""

import io
import logging
import re
import resource
import subprocess
import sys
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from pypdf import PasswordType, PdfReader, apply_configuration
from pypdf.errors import LimitReachedError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject, StreamObject

from .kinds import PDF
from .polyglots import _XML_DECLARATION, foreign_content_check, trailer_check

logger = logging.getLogger(__name__)


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

PDF_HEADER = re.compile(rb"%PDF-\d\.\d")


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


def pdf_check(data: bytes, shown: str) -> None:
    end = data.rfind(b"%%EOF")
    if end < 0:
        raise ValidationError(_pdf_problem_message("damaged"), code="pdf_damaged", params={"name": shown})
    trailer_check(data, end + len(b"%%EOF"), shown, PDF)
    foreign_content_check(data, shown, xmp=_pdf_metadata_ranges(data))
    problem = next((problem for pattern, problem in _PDF_RAW_NAMES if pattern.search(data)), None)
    problem = problem or pdf_problem(data)
    if problem:
        raise ValidationError(_pdf_problem_message(problem), code=f"pdf_{problem}", params={"name": shown})


def pdf_problem(data: bytes) -> str | None:
    if len(data) <= PDF_IN_PROCESS_BYTES:
        try:
            return _pdf_inspect(data, _PDF_IN_PROCESS)
        except (_PdfTooMuchWork, LimitReachedError):
            pass  # more work than this process takes on: the child reads it
        except Exception:  # hostile bytes make pypdf fail in ways no list of its errors covers
            return "damaged"
    return pdf_inspect_in_child(data)


def pdf_inspect_in_child(data: bytes) -> str | None:
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


if __name__ == "__main__" and sys.argv[1:2] == ["--pdf-probe"]:
    _pdf_probe_main(int(sys.argv[2]), int(sys.argv[3]))
