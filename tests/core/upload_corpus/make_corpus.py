"""Writes the upload corpus: good PDF, PNG and JPEG files, and bad files that must be refused.

The files are committed, so the tests read the same bytes whatever pypdf, Pillow or WeasyPrint
do later. Run this again only to add a case:

    .venv/bin/python tests/core/upload_corpus/make_corpus.py

and list the new file in `tests/core/test_uploads.py` (a test fails for a file it does not list).
"""

import io
import random
import struct
import sys
import zipfile
import zlib
from pathlib import Path

from PIL import Image, ImageDraw
from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    TextStringObject,
)

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from portal.pdf import pdf_from_html  # noqa: E402 (after the path is set)

N = NameObject


# --- building blocks -----------------------------------------------------------------------------


def blank_writer(pages: int = 1) -> PdfWriter:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=200, height=200)
    return writer


def written(writer: PdfWriter) -> bytes:
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def action(kind: str, **entries) -> DictionaryObject:
    values = {N("/Type"): N("/Action"), N("/S"): N(kind)}
    for key, value in entries.items():
        values[N(f"/{key}")] = TextStringObject(value) if isinstance(value, str) else value
    return DictionaryObject(values)


def with_annotation(writer: PdfWriter, annotation: DictionaryObject) -> PdfWriter:
    annotation.update({N("/Type"): N("/Annot"), N("/Rect"): ArrayObject([FloatObject(v) for v in (10, 10, 90, 40)])})
    writer.pages[0][N("/Annots")] = ArrayObject([writer._add_object(annotation)])
    return writer


def raw_pdf(objects: dict[int, bytes], *, root: int = 1) -> bytes:
    """A PDF written by hand, with a correct cross-reference table, for what pypdf will not write."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number, body in objects.items():
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref, size = len(out), max(objects) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for number in range(1, size):
        out += b"%010d 00000 n \n" % offsets[number] if number in offsets else b"0000000000 65535 f \n"
    out += b"trailer\n<</Size %d/Root %d 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (size, root, xref)
    return bytes(out)


def stream(data: bytes, dictionary: bytes = b"") -> bytes:
    return b"<<%s/Length %d>>\nstream\n" % (dictionary, len(data)) + data + b"\nendstream"


CATALOG = b"<</Type/Catalog/Pages 2 0 R>>"
PAGES = b"<</Type/Pages/Kids[3 0 R]/Count 1>>"
PAGE = b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>"


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("payload/run.txt", "Hidden in an innocent-looking file.\n" * 20)
    return buffer.getvalue()


def image_bytes(fmt: str, **options) -> bytes:
    image = Image.new("RGB", (64, 48), "white")
    draw = ImageDraw.Draw(image)
    for x in range(0, 64, 4):
        draw.line([(x, 0), (63 - x, 47)], fill=(x * 4, 40, 200 - x * 3))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def png_chunk(chunk_type: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + chunk_type + body + struct.pack(">I", zlib.crc32(chunk_type + body))


def png_with_chunk(png: bytes, chunk: bytes) -> bytes:
    """`chunk` inserted right after IHDR (8 bytes of signature, 25 of IHDR)."""
    return png[:33] + chunk + png[33:]


def jpeg_with_segment(jpeg: bytes, marker: int, body: bytes) -> bytes:
    return jpeg[:2] + bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body + jpeg[2:]


XMP = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<x:xmpmeta xmlns:x="adobe:ns:meta/">'
    b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about=""'
    b' xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:format>application/pdf</dc:format>'
    b"</rdf:Description></rdf:RDF></x:xmpmeta>"
)
HTML = b"<!doctype html><html><body><script>alert(document.domain)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.domain)"><rect width="10" height="10"/></svg>'


# --- good files ----------------------------------------------------------------------------------


def good_files() -> dict[str, bytes]:
    weasy = pdf_from_html(
        "<h1>Transfer order</h1><p>Überweisung von 1.250,00 € an Max Mustermann.</p>",
        identifier=b"partnerzone-upload-corpus-00000",
    )
    metadata = blank_writer()
    xmp = DecodedStreamObject()
    xmp.set_data(XMP)
    xmp.update({N("/Type"): N("/Metadata"), N("/Subtype"): N("/XML")})
    metadata.root_object[N("/Metadata")] = metadata._add_object(xmp)
    owner_only = blank_writer()
    owner_only.encrypt(user_password="", owner_password="owner-secret", algorithm="RC4-128")
    link = with_annotation(
        blank_writer(),
        DictionaryObject({N("/Subtype"): N("/Link"), N("/A"): action("/URI", URI="https://example.org/")}),
    )
    jpeg = image_bytes("JPEG", quality=85)
    xmp_body = b"http://ns.adobe.com/xap/1.0/\x00" + XMP
    return {
        "good_weasyprint.pdf": weasy,
        "good_pypdf.pdf": written(blank_writer(2)),
        "good_xmp_metadata.pdf": written(metadata),
        "good_owner_password_only.pdf": written(owner_only),
        "good_uri_link.pdf": written(link),
        "good_photo.png": image_bytes("PNG"),
        "good_xmp.png": png_with_chunk(
            image_bytes("PNG"), png_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + XMP)
        ),
        "good_interlaced.png": _interlaced_png(37, 23),
        "good_photo.jpg": jpeg,
        "good_progressive.jpg": image_bytes("JPEG", quality=80, progressive=True),
        "good_xmp.jpg": jpeg_with_segment(jpeg, 0xE1, xmp_body),
        "good_multi_picture.jpg": jpeg + image_bytes("JPEG", quality=30),
    }


# --- bad files -----------------------------------------------------------------------------------


def bad_files(good: dict[str, bytes]) -> dict[str, bytes]:
    pdf = good["good_pypdf.pdf"]
    png, jpeg = good["good_photo.png"], good["good_photo.jpg"]

    open_action = blank_writer()
    open_action.root_object[N("/OpenAction")] = open_action._add_object(action("/JavaScript", JS="app.alert(1)"))
    names_js = blank_writer()
    names_js.root_object[N("/Names")] = DictionaryObject(
        {
            N("/JavaScript"): DictionaryObject(
                {
                    N("/Names"): ArrayObject(
                        [TextStringObject("init"), names_js._add_object(action("/JavaScript", JS="app.alert(2)"))]
                    )
                }
            )
        }
    )
    launch = blank_writer()
    launch.root_object[N("/OpenAction")] = launch._add_object(action("/Launch", F="calc.exe"))
    embedded = blank_writer()
    embedded.add_attachment("payload.exe", b"MZ" + b"\x00" * 64)
    file_annotation = with_annotation(
        blank_writer(),
        DictionaryObject(
            {
                N("/Subtype"): N("/FileAttachment"),
                N("/FS"): DictionaryObject({N("/Type"): N("/Filespec"), N("/F"): TextStringObject("payload.txt")}),
            }
        ),
    )
    js_link = with_annotation(
        blank_writer(),
        DictionaryObject({N("/Subtype"): N("/Link"), N("/A"): action("/JavaScript", JS="app.launchURL('x')")}),
    )
    field_js = with_annotation(
        blank_writer(),
        DictionaryObject(
            {
                N("/Subtype"): N("/Widget"),
                N("/FT"): N("/Tx"),
                N("/T"): TextStringObject("amount"),
                N("/AA"): DictionaryObject({N("/K"): action("/JavaScript", JS="event.value = 1;")}),
            }
        ),
    )
    field_js.root_object[N("/AcroForm")] = DictionaryObject({N("/Fields"): field_js.pages[0][N("/Annots")]})
    richmedia = with_annotation(
        blank_writer(),
        DictionaryObject({N("/Subtype"): N("/RichMedia"), N("/RichMediaContent"): DictionaryObject()}),
    )
    xfa = blank_writer()
    xfa_stream = DecodedStreamObject()
    xfa_stream.set_data(b"<xdp:xdp xmlns:xdp='http://ns.adobe.com/xdp/'></xdp:xdp>")
    xfa.root_object[N("/AcroForm")] = DictionaryObject(
        {N("/Fields"): ArrayObject(), N("/XFA"): xfa._add_object(xfa_stream)}
    )
    encrypted = blank_writer()
    encrypted.encrypt(user_password="user-secret", owner_password="owner-secret", algorithm="RC4-128")
    zip_stream = blank_writer()
    hidden = DecodedStreamObject()
    hidden.set_data(zip_bytes())
    zip_stream.root_object[N("/PieceInfo")] = zip_stream._add_object(hidden)
    xml_content = blank_writer()
    content = DecodedStreamObject()
    content.set_data(b'<?xml version="1.0"?><note>not metadata</note>')
    xml_content.pages[0][N("/Contents")] = xml_content._add_object(content)
    oversized = blank_writer()
    drawing = DecodedStreamObject()
    drawing.set_data(b"".join(b"%d %d m %d %d l S\n" % (i % 200, i % 190, i % 180, i % 170) for i in range(3000)))
    oversized.pages[0][N("/Contents")] = oversized._add_object(drawing)

    object_stream_body = b"4 0 <</S/JavaScript/JS(app.alert('packed'))>>"
    object_stream = zlib.compress(object_stream_body)
    packed_js = _xref_stream_pdf(object_stream)

    deep = raw_pdf({1: CATALOG, 2: PAGES, 3: PAGE, 4: b"[" * 20000 + b"]" * 20000})
    page_loop = raw_pdf({1: CATALOG, 2: b"<</Type/Pages/Kids[2 0 R]/Count 1>>"})
    bomb = raw_pdf(
        {
            1: CATALOG,
            2: PAGES,
            3: PAGE,
            4: stream(zlib.compress(b"\x00" * (24 * 1024 * 1024), 9), b"/Type/ObjStm/N 1/First 4/Filter/FlateDecode"),
        }
    )

    big_png = png_chunk(b"IHDR", struct.pack(">IIBBBBB", 9000, 9000, 8, 0, 0, 0, 0))
    big_png = (
        b"\x89PNG\r\n\x1a\n" + big_png + png_chunk(b"IDAT", zlib.compress(b"\x00" * 9001 * 4)) + png_chunk(b"IEND", b"")
    )
    broken_idat = (
        b"\x89PNG\r\n\x1a\n" + png[8:33] + png_chunk(b"IDAT", random.Random(3).randbytes(300)) + png_chunk(b"IEND", b"")
    )
    gif = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(gif, format="GIF")

    return {
        # Web pages, SVG and archives wrapped between a PDF header and end-of-file marker.
        "html_in_pdf_wrapper.pdf": b"%PDF-1.7\n" + HTML + b"\n%%EOF\n",
        "svg_in_pdf_wrapper.pdf": b"%PDF-1.7\n" + SVG + b"\n%%EOF\n",
        "zip_in_pdf_wrapper.pdf": b"%PDF-1.7\n" + zip_bytes() + b"\n%%EOF\n",
        # Valid PDFs that carry markup or an archive.
        "html_in_valid_pdf.pdf": raw_pdf(
            {
                1: CATALOG,
                2: PAGES,
                3: b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]/Contents 4 0 R>>",
                4: stream(HTML),
            }
        ),
        "zip_in_valid_pdf.pdf": written(zip_stream),
        "zip_after_valid_pdf.pdf": pdf + zip_bytes(),
        "xml_outside_metadata.pdf": written(xml_content),
        # PDFs that act or carry files.
        "javascript_open_action.pdf": written(open_action),
        "javascript_names_tree.pdf": written(names_js),
        "javascript_link_annotation.pdf": written(js_link),
        "javascript_form_field.pdf": written(field_js),
        "javascript_hex_escaped_names.pdf": raw_pdf(
            {1: b"<</Type/Catalog/Pages 2 0 R/OpenAction<</S/J#61vaScript/J#53(app.alert(1))>>>>", 2: PAGES, 3: PAGE}
        ),
        "javascript_in_object_stream.pdf": packed_js,
        "launch_action.pdf": written(launch),
        "embedded_file.pdf": written(embedded),
        "file_attachment_annotation.pdf": written(file_annotation),
        "richmedia_annotation.pdf": written(richmedia),
        "xfa_form.pdf": written(xfa),
        "encrypted_user_password.pdf": written(encrypted),
        # PDFs that are broken or built to exhaust the reader.
        "truncated.pdf": good["good_weasyprint.pdf"][: len(good["good_weasyprint.pdf"]) // 2],
        "garbage.pdf": b"%PDF-1.7\n" + bytes(b % 200 + 40 for b in random.Random(7).randbytes(3000)) + b"\n%%EOF\n",
        "no_pages.pdf": raw_pdf({1: b"<</Type/Catalog/Pages 2 0 R>>", 2: b"<</Type/Pages/Kids[]/Count 0>>"}),
        "deeply_nested.pdf": deep,
        "page_tree_loop.pdf": page_loop,
        "object_stream_bomb.pdf": bomb,
        # Images with something else in or after them.
        "png_with_appended_zip.png": png + zip_bytes(),
        "png_with_zip_in_text_chunk.png": png_with_chunk(png, png_chunk(b"tEXt", b"Comment\x00" + zip_bytes())),
        "png_with_xml_outside_xmp.png": png_with_chunk(
            png, png_chunk(b"tEXt", b'Comment\x00<?xml version="1.0"?><note/>')
        ),
        "jpeg_with_appended_html.jpg": jpeg + HTML,
        "jpeg_with_html_in_comment.jpg": jpeg_with_segment(jpeg, 0xFE, HTML),
        "png_truncated.png": png[: len(png) - 30],
        "png_broken_pixels.png": broken_idat,
        "png_huge_dimensions.png": big_png,
        "png_short_pixels.png": b"\x89PNG\r\n\x1a\n"
        + png[8:33]
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 100))
        + png_chunk(b"IEND", b""),
        "jpeg_truncated.jpg": jpeg[: len(jpeg) // 2],
        # Other kinds under an accepted name.
        "program_renamed.pdf": b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"
        + b"\x00" * 50
        + b"This program cannot be run in DOS mode.\r\n$PE\x00\x00",
        "linux_program_renamed.jpg": b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56,
        "html_renamed.pdf": HTML,
        "svg_renamed.png": SVG,
        "gif_renamed.png": gif.getvalue(),
        "empty.pdf": b"",
        "oversized.pdf": written(oversized),
    }


def _interlaced_png(width: int, height: int) -> bytes:
    """An Adam7-interlaced RGB PNG (Pillow does not write them), a gradient in every pass."""
    rows = []
    for x0, y0, dx, dy in (
        (0, 0, 8, 8),
        (4, 0, 8, 8),
        (0, 4, 4, 8),
        (2, 0, 4, 4),
        (0, 2, 2, 4),
        (1, 0, 2, 2),
        (0, 1, 1, 2),
    ):
        columns, lines = max(0, -(-(width - x0) // dx)), max(0, -(-(height - y0) // dy))
        if columns and lines:
            rows += [b"\x00" + bytes((x * 7 + y * 3) % 256 for x in range(columns * 3)) for y in range(lines)]
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 1)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + png_chunk(b"IEND", b"")
    )


def _xref_stream_pdf(object_stream: bytes) -> bytes:
    """A PDF whose OpenAction (object 4) sits compressed in an object stream, found via an xref stream."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    bodies = {
        1: b"<</Type/Catalog/Pages 2 0 R/OpenAction 4 0 R>>",
        2: PAGES,
        3: PAGE,
        5: stream(object_stream, b"/Type/ObjStm/N 1/First 4/Filter/FlateDecode"),
    }
    for number, body in bodies.items():
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    offsets[6] = len(out)
    rows = [struct.pack(">BIH", 0, 0, 65535)]
    for number in range(1, 7):
        rows.append(struct.pack(">BIH", 2, 5, 0) if number == 4 else struct.pack(">BIH", 1, offsets[number], 0))
    xref = b"".join(rows)
    out += b"6 0 obj\n" + stream(xref, b"/Type/XRef/Size 7/W[1 4 2]/Root 1 0 R") + b"\nendobj\n"
    out += b"startxref\n%d\n%%%%EOF\n" % offsets[6]
    return bytes(out)


def main() -> None:
    good = good_files()
    files = {**good, **bad_files(good)}
    for old in HERE.iterdir():
        if old.suffix in {".pdf", ".png", ".jpg"}:
            old.unlink()
    for name, data in files.items():
        (HERE / name).write_bytes(data)
    print(f"{len(files)} files written to {HERE}")


if __name__ == "__main__":
    main()
