"""A small client book for signature requests, and helpers that write requests the way brokers do.

broker1 (Alpha Invest) advises Anna (login client1, portfolios P1 and a closed P1X) and Bert
(login client2, portfolio P2); broker2 (Alpha) advises Carla, who has no login; broker3
(Beta) advises Dora (login client3). Files land in a temporary MEDIA_ROOT.
"""

import io
import re
from datetime import date
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from clients.models import Client
from intermediaries.models import Portfolio
from portal.notifications.models import OutboxMessage
from portal.notifications.selectors import dev_message_text
from signing import services
from signing.models import SignatureRequest
from tests.fakes.fixtures import *  # noqa: F403 (loopback Twilio, SMTP, private Redis and the real worker)

IBAN = "DE89370400440532013000"
IBAN_OTHER = "DE02120300000000202051"
Kind = SignatureRequest.Kind


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def make_client(number, first, last, advisor, user=None):
    return Client.objects.create(number=number, first_name=first, last_name=last, advisor=advisor, user=user)


def make_portfolio(client, number, *, currency="EUR", status="open"):
    return Portfolio.objects.create(
        number=number,
        client=client,
        name=f"Depot {number}",
        currency=currency,
        opened_on=date(2025, 1, 2),
        status=status,
    )


@pytest.fixture
def book(cast):
    anna = make_client("C1001", "Anna", "Albers", cast.broker1, user=cast.client1)
    bert = make_client("C1002", "Bert", "Brandt", cast.broker1, user=cast.client2)
    carla = make_client("C2001", "Carla", "Conrad", cast.broker2)
    dora = make_client("C3001", "Dora", "Dietrich", cast.broker3, user=cast.client3)
    make_portfolio(anna, "P1")
    make_portfolio(anna, "P1X", status="closed")
    make_portfolio(bert, "P2", currency="USD")
    make_portfolio(dora, "P3")
    return SimpleNamespace(anna=anna, bert=bert, carla=carla, dora=dora)


def pdf_bytes(text: str = "Transfer order") -> bytes:
    """A real one-page PDF that shows `text` (the same text gives the same bytes)."""
    content = b"BT /F1 14 Tf 20 100 Td (%s) Tj ET" % text.encode("latin-1", "replace")
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 300 200]/Resources<</Font<</F1 5 0 R>>>>/Contents 4 0 R>>",
        b"<</Length %d>>\nstream\n%s\nendstream" % (len(content), content),
        b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def png_bytes(color: str = "navy") -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg_bytes() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, format="JPEG")
    return buffer.getvalue()


def upload(name: str = "order.pdf", data: bytes | None = None, content_type: str = "application/pdf"):
    return SimpleUploadedFile(name, pdf_bytes() if data is None else data, content_type=content_type)


TRANSFER = {
    "kind": Kind.FUND_TRANSFER,
    "amount": "1250.00",
    "currency": "EUR",
    "portfolio_reference": "P1",
    "payee_name": "Max Mustermann",
    "payee_iban": IBAN,
    "payment_reference": "Flat deposit",
    "message": "As discussed on the phone.",
}


def transfer(broker, client, *, send=True, attachments=None, **fields) -> SignatureRequest:
    """A fund transfer from `broker` to `client` (a Client record), sent unless told otherwise."""
    values = {**TRANSFER, **fields}
    request = services.signature_request_create(
        actor=broker,
        recipient=str(client.pk),
        attachments=[upload()] if attachments is None else attachments,
        **values,
    )
    if send:
        services.signature_request_send(actor=broker, request_id=request.pk)
    return SignatureRequest.objects.get(pk=request.pk)


def document(broker, client, *, send=True, **fields) -> SignatureRequest:
    values = {"kind": Kind.DOCUMENT, "title": "Investor profile", "message": "Please confirm your profile.", **fields}
    request = services.signature_request_create(actor=broker, recipient=str(client.pk), **values)
    if send:
        services.signature_request_send(actor=broker, request_id=request.pk)
    return SignatureRequest.objects.get(pk=request.pk)


def opened(request, user) -> SignatureRequest:
    """The client opened the request (as the detail page does)."""
    return services.signature_request_mark_viewed(actor=user, request=SignatureRequest.objects.get(pk=request.pk))


def sms_text(message: OutboxMessage) -> str:
    """The SMS as the client gets it: the outbox row keeps the code sealed apart from the text."""
    return dev_message_text(message=message)


def code_from(message: OutboxMessage | str) -> str:
    body = message if isinstance(message, str) else sms_text(message)
    return re.search(r"(?<!\d)\d{6}(?!\d)", body).group(0)


def request_code(request, user) -> str:
    """Ask for a code as the client and return it, read from the SMS."""
    request = opened(request, user)
    sent = services.signing_code_request(actor=user, request_id=request.pk, content_hash=request.content_hash)
    return code_from(sent.send.outbox_message)


def a_minute_passes() -> None:
    """The resend limit counts from the last code SMS to the phone: move those a minute back."""
    from datetime import timedelta

    from django.utils import timezone

    from signing.models import SigningCodeSend

    SigningCodeSend.objects.update(created_at=timezone.now() - timedelta(seconds=61))


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def sign(request, user, code: str):
    request = SignatureRequest.objects.get(pk=request.pk)
    return services.signature_request_sign(
        actor=user, request_id=request.pk, code=code, content_hash=request.content_hash
    )
