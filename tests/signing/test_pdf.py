"""The signed PDF: its text read back, checked by manage.py verify_signature, rendered without any fetch."""

import socket
import subprocess
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from portal.pdf import pdf_from_html
from signing import pdf
from signing.models import SignatureEvidence

from .conftest import request_code, sign, transfer, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed(cast, book):
    request = transfer(
        cast.broker1,
        book.anna,
        amount="12500.00",
        payee_name="Müller & Söhne GmbH",
        message="Überweisung für die Wohnung — €",
        attachments=[upload("order.pdf"), upload("annex.pdf")],
    )
    sign(request, cast.client1, request_code(request, cast.client1))
    return pdf.signed_pdf_render(request_id=request.pk)


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def test_the_pdf_holds_the_content_the_attachment_hashes_and_the_evidence(signed, tmp_path):
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed.pdf.read())
    text = pdf_text(path)

    request = signed.request
    for expected in (
        request.title,
        "12,500.00 EUR",
        "Müller & Söhne GmbH",
        "DE89 3704 0044 0532 0130 00",
        "Überweisung für die Wohnung — €",
        "Depot P1 (P1)",
        "Evidence of signature",
        "+49••••••••001",
        request.fingerprint,
        str(request.uuid),
    ):
        assert expected in text, expected
    flat = text.replace("\n", "").replace(" ", "")
    assert signed.content_hash in flat
    for attachment in request.attachments.all():
        assert attachment.name in text and attachment.sha256 in flat
    assert signed.pdf_sha256 and signed.pdf_rendered_at


def test_rendering_twice_keeps_the_first_pdf(signed):
    again = pdf.signed_pdf_render(request_id=signed.request_id)
    assert (again.pdf.name, again.pdf_sha256) == (signed.pdf.name, signed.pdf_sha256)


def test_verify_signature_says_intact_for_the_issued_file(signed, tmp_path, capsys):
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed.pdf.read())

    call_command("verify_signature", str(path))

    out = capsys.readouterr().out
    assert "INTACT" in out and signed.request.short_reference in out


@pytest.mark.parametrize(
    "change",
    [
        lambda data: data + b"\n% appended\n",
        lambda data: data.replace(b"/Producer", b"/Pr0ducer", 1) if b"/Producer" in data else data[:-10] + b"0" * 10,
        lambda data: data[:2000] + bytes([data[2000] ^ 1]) + data[2001:],
    ],
)
def test_verify_signature_says_tampered_for_any_change(signed, tmp_path, change):
    path = tmp_path / "changed.pdf"
    path.write_bytes(change(signed.pdf.read()))

    with pytest.raises(CommandError, match="TAMPERED"):
        call_command("verify_signature", str(path))


def test_verify_signature_says_unknown_for_another_pdf(signed, tmp_path):
    path = tmp_path / "other.pdf"
    path.write_bytes(pdf_from_html("<p>hello</p>", identifier=b"0" * 32))
    with pytest.raises(CommandError, match="UNKNOWN"):
        call_command("verify_signature", str(path))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("verify_signature", str(tmp_path / "missing.pdf"))


def test_verify_signature_notices_stored_evidence_that_no_longer_matches(signed, tmp_path):
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed.pdf.read())
    attachment = signed.request.attachments.first()
    with open(attachment.file.path, "ab") as handle:
        handle.write(b"swapped")

    with pytest.raises(CommandError, match=r"EVIDENCE MISMATCH.*attachment:order\.pdf"):
        call_command("verify_signature", str(path))

    SignatureEvidence.objects.filter(pk=signed.pk).update(content_hash="0" * 64)
    result = pdf.signed_pdf_verify(path.read_bytes())
    assert result.outcome == pdf.Verification.MISMATCH and "evidence_content" in result.problems


class Listener:
    """A loopback port that counts connections: the renderer must never open one."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self):
        self.stop.set()
        self.thread.join(timeout=2)
        self.sock.close()


def test_rendering_fetches_nothing_not_even_from_loopback():
    listener = Listener()
    try:
        url = f"http://127.0.0.1:{listener.port}"
        html = (
            f'<link rel="stylesheet" href="{url}/style.css"><style>@import url("{url}/more.css");'
            f'@font-face {{ font-family: X; src: url("{url}/font.woff"); }}</style>'
            f'<img src="{url}/logo.png"><img src="file:///etc/passwd"><p>text</p>'
        )
        data = pdf_from_html(html, identifier=b"1" * 32)
    finally:
        listener.close()
    assert data.startswith(b"%PDF-")
    assert listener.connections == 0


def test_the_signed_pdf_is_rendered_with_data_the_client_typed_but_fetches_nothing(cast, book):
    listener = Listener()
    try:
        url = f"http://127.0.0.1:{listener.port}/x.png"
        request = transfer(cast.broker1, book.anna, message=f'<img src="{url}"> see {url}')
        sign(request, cast.client1, request_code(request, cast.client1))
        evidence = pdf.signed_pdf_render(request_id=request.pk)
    finally:
        listener.close()
    assert evidence.pdf and listener.connections == 0
