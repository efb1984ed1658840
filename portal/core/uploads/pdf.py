"""PDFs read with pypdf: refused when they run JavaScript, start programs, carry files or media,
are encrypted, damaged or too much work to read (in a child process with limits, when large)."""

import logging
import re
import subprocess
import sys

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from pypdf.errors import LimitReachedError

from . import pdf_reader
from .kinds import PDF
from .pdf_reader import (
    PDF_ANSWERS,
    PDF_CHILD_CPU_SECONDS,
    PDF_CHILD_MEMORY_BYTES,
    PDF_CHILD_WALL_SECONDS,
    PDF_IN_PROCESS,
    PDF_IN_PROCESS_BYTES,
    PDF_KEY_NAMES,
    PDF_VALUE_NAMES,
    PdfTooMuchWork,
    pdf_inspect,
)
from .polyglots import _XML_DECLARATION, foreign_content_check, trailer_check

logger = logging.getLogger(__name__)


PDF_HEADER = re.compile(rb"%PDF-\d\.\d")


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
    (_pdf_raw_name(name), problem) for name, problem in {**PDF_VALUE_NAMES, **PDF_KEY_NAMES}.items() if len(name) > 5
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
            return pdf_inspect(data, PDF_IN_PROCESS)
        except (PdfTooMuchWork, LimitReachedError):
            pass  # more work than this process takes on: the child reads it
        except Exception:  # hostile bytes make pypdf fail in ways no list of its errors covers
            return "damaged"
    return pdf_inspect_in_child(data)


def pdf_inspect_in_child(data: bytes) -> str | None:
    command = [
        sys.executable,
        "-I",
        pdf_reader.__file__,
        "--pdf-probe",
        str(PDF_CHILD_CPU_SECONDS),
        str(PDF_CHILD_MEMORY_BYTES),
    ]
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
    if done.returncode != 0 or answer not in PDF_ANSWERS:
        return "complex"  # killed by its CPU-time or memory limit
    return None if answer == "ok" else answer


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
