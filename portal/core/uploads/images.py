"""PNG and JPEG images: they must decode as what they claim, fully, with nothing after their end."""

import io
import logging
import re
import struct
import zlib
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image

from .kinds import JPEG, PNG, FileKind
from .polyglots import XMP_JPEG_PREFIXES, XMP_PNG_KEYWORD, foreign_content_check, trailer_check

logger = logging.getLogger(__name__)


# Images beyond this many pixels are refused before they are decoded (50 megapixels: more than a
# phone camera's usual photo, about 150 MB once decoded).
MAX_IMAGE_PIXELS = 50_000_000
# JPEG files may hold further complete JPEG images after the first (phones store depth and HDR
# gain maps so); more than this many are refused.
MAX_EXTRA_JPEGS = 8

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SIGNATURE = b"\xff\xd8\xff"


@dataclass(frozen=True)
class _Layout:
    end: int  # where the image ends (after IEND / the last EOI)
    xmp: list[tuple[int, int]]
    header: bytes = b""  # PNG: the IHDR chunk's data
    pixels: tuple[tuple[int, int], ...] = ()  # PNG: where the IDAT chunks' data stand


def image_check(data: bytes, shown: str, kind: FileKind, layout: _Layout | None) -> None:
    damaged = ValidationError(
        _("%(name)s is a damaged %(kind)s image."), code="image_damaged", params={"name": shown, "kind": kind.label}
    )
    if layout is None:
        raise damaged
    trailer_check(data, layout.end, shown, kind)
    foreign_content_check(data, shown, xmp=layout.xmp)
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


def png_layout(data: bytes) -> _Layout | None:
    """Walk the chunks (checking each CRC) to IEND; None when the structure is broken."""
    at, xmp, first, header, pixels = len(PNG_SIGNATURE), [], True, b"", []
    while at + 12 <= len(data):
        length, chunk_type = struct.unpack_from(">I4s", data, at)
        body_end = at + 8 + length
        if not chunk_type.isalpha() or body_end + 4 > len(data) or (first and chunk_type != b"IHDR"):
            return None
        (crc,) = struct.unpack_from(">I", data, body_end)
        if zlib.crc32(data[at + 4 : body_end]) != crc:
            return None
        if chunk_type == b"iTXt" and data.startswith(XMP_PNG_KEYWORD, at + 8):
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


def jpeg_layout(data: bytes) -> _Layout | None:
    """Walk the segments and scans to the last EOI; None when the structure is broken."""
    xmp: list[tuple[int, int]] = []
    at, images = 0, 0
    while images == 0 or (data.startswith(JPEG_SIGNATURE, at) and images <= MAX_EXTRA_JPEGS):
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
        if marker == 0xE1 and data.startswith(XMP_JPEG_PREFIXES, at + 4):
            xmp.append((at + 4, segment_end))
        at = segment_end
        if marker == 0xDA:  # start of scan: entropy-coded data runs to the next real marker
            found = _JPEG_SCAN_END.search(data, at)
            if found is None:
                return None
            at = found.start()
    return None
