"""Files that are two things at once: markup, a script or an archive inside a PDF or an image."""

import logging
import re
import struct

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .kinds import FileKind

logger = logging.getLogger(__name__)


# After a file's end marker, at most this many bytes of padding (NUL or whitespace) are allowed.
MAX_PADDING = 64

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
XMP_PNG_KEYWORD = b"XML:com.adobe.xmp\x00"
XMP_JPEG_PREFIXES = (b"http://ns.adobe.com/xap/1.0/\x00", b"http://ns.adobe.com/xmp/extension/\x00")
_PADDING = re.compile(rb"[\x00\t\n\f\r ]*\Z")


def foreign_content_check(data: bytes, shown: str, *, xmp: list[tuple[int, int]]) -> None:
    """Refuse a file that also carries markup, a script or an archive; `xmp` are ranges where `<?xml` belongs."""
    markup = _MARKUP.search(data)
    if markup is None:
        markup = next((m for m in _XML_DECLARATION.finditer(data) if not inside(m.start(), xmp)), None)
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


def inside(position: int, ranges: list[tuple[int, int]]) -> bool:
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


def trailer_check(data: bytes, end: int, shown: str, kind: FileKind) -> None:
    rest = data[end:]
    if len(rest) > MAX_PADDING or not _PADDING.match(rest):
        raise ValidationError(
            _("%(name)s has data after the end of the %(kind)s and is not accepted."),
            code="trailing_data",
            params={"name": shown, "kind": kind.label},
        )
