"""Reading a PDF's objects with pypdf, within limits; run in a child process for large files.

This module imports nothing of the portal (not even its own package) because `pdf.py` runs it as a
script in a child process that limits its own CPU time and memory: `python -I pdf_reader.py
--pdf-probe CPU MEMORY` reads the PDF from its standard input and prints its problem or "ok".
"""

import io
import resource
import sys
from dataclasses import dataclass

from pypdf import PasswordType, PdfReader, apply_configuration
from pypdf.errors import LimitReachedError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject, StreamObject

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


PDF_IN_PROCESS = _PdfLimits(objects=2_000, object_streams=2, values=40_000, inflated=64 * 1024, stream=64 * 1024)
PDF_IN_CHILD = _PdfLimits(
    objects=25_000, object_streams=5_000, values=2_000_000, inflated=64 * 1024 * 1024, stream=16 * 1024 * 1024
)


# Names that make a PDF act (JavaScript, starting programs) or carry other files or media.
PDF_VALUE_NAMES = {
    "/JavaScript": "javascript",
    "/Launch": "launch",
    "/EmbeddedFile": "embedded",
    "/FileAttachment": "embedded",
    "/GoToE": "embedded",
    "/RichMedia": "richmedia",
}
PDF_KEY_NAMES = {
    "/JS": "javascript",
    "/JavaScript": "javascript",
    "/EmbeddedFiles": "embedded",
    "/RichMediaContent": "richmedia",
    "/XFA": "xfa",
}


def _pdf_probe_main(cpu_seconds: int, memory_bytes: int) -> None:
    """The child process: limit itself, read the PDF from stdin, print its problem or "ok"."""
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    data = sys.stdin.buffer.read()
    try:
        problem = pdf_inspect(data, PDF_IN_CHILD)
    except (PdfTooMuchWork, LimitReachedError):
        problem = "complex"
    except Exception:  # as in the parent: any failure on hostile bytes is a damaged file
        problem = "damaged"
    sys.stdout.write(problem or "ok")


class PdfTooMuchWork(Exception):
    """The document needs more work than the limits in force allow."""


PDF_ANSWERS = {
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


def pdf_inspect(data: bytes, limits: _PdfLimits) -> str | None:
    """The first problem pypdf finds in the document's objects, or None; PdfTooMuchWork past `limits`."""
    with apply_configuration(**limits.configuration()):
        reader = PdfReader(io.BytesIO(data), strict=False, xref_stream_maximum_entries=limits.objects)
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            return "encrypted"
        plain = [(idnum, generation) for generation, table in reader.xref.items() for idnum in table]
        packed = [(idnum, 0) for idnum in reader.xref_objStm]
        object_streams = {stream for stream, _index in reader.xref_objStm.values()}
        if len(plain) + len(packed) > limits.objects or len(object_streams) > limits.object_streams:
            raise PdfTooMuchWork
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
            raise PdfTooMuchWork

    def look(self) -> None:
        self.values += 1
        if self.values > self.limits.values:
            raise PdfTooMuchWork


def _pdf_values_check(root, budget: _PdfBudget) -> str | None:
    """Walk one object's direct values (references are not followed: every object is walked on its own)."""
    stack = [root]
    while stack:
        value = stack.pop()
        budget.look()
        if isinstance(value, NameObject):
            if value in PDF_VALUE_NAMES:
                return PDF_VALUE_NAMES[value]
        elif isinstance(value, DictionaryObject):
            for key in value:
                if key in PDF_KEY_NAMES:
                    return PDF_KEY_NAMES[key]
            if "/EF" in value and ("/F" in value or "/UF" in value or value.get("/Type") == "/Filespec"):
                return "embedded"  # a file specification that carries the file itself
            stack.extend(value.values())
        elif isinstance(value, ArrayObject):
            stack.extend(value)
    return None


if __name__ == "__main__" and sys.argv[1:2] == ["--pdf-probe"]:
    _pdf_probe_main(int(sys.argv[2]), int(sys.argv[3]))
