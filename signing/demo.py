"""Demo data: broker1's signature requests to client1 and client2 in every state, and broker3's to client3.

Everything goes through the services, as a broker, a client and the back office would: the
demo even signs like a client, reading the code from the dev outbox. Running it again
changes nothing.
"""

import io
import re

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string

from portal.notifications.selectors import dev_message_text
from portal.pdf import pdf_from_html

from . import addressbook, services
from .models import SignatureRequest

DEMO_ORIGIN = "demo"
IBAN_EXAMPLE = "DE89370400440532013000"


def demo_step(*, scale: str, stdout) -> None:
    users = get_user_model().objects.in_bulk(
        [
            "broker1@example.com",
            "broker3@example.com",
            "client1@example.com",
            "client2@example.com",
            "client3@example.com",
            "backoffice@example.com",
        ],
        field_name="email",
    )
    broker, backoffice = users.get("broker1@example.com"), users.get("backoffice@example.com")
    if broker is None or backoffice is None:
        stdout.write("  signing: the demo cast is missing; nothing to do.")
        return
    _broker1_requests(broker, backoffice, users.get("client1@example.com"), users.get("client2@example.com"), stdout)
    broker3, client3 = users.get("broker3@example.com"), users.get("client3@example.com")
    if broker3 is not None and client3 is not None:
        _broker3_requests(broker3, client3, stdout)
    stdout.write(f"  signing: {SignatureRequest.objects.filter(origin=DEMO_ORIGIN).count()} demo requests")


def _create(broker, key, kind, **fields) -> SignatureRequest:
    return services.signature_request_create(actor=broker, recipient=key, kind=kind, origin=DEMO_ORIGIN, **fields)


def _already_written(broker, stdout) -> bool:
    if SignatureRequest.objects.filter(origin=DEMO_ORIGIN, sender=broker).exists():
        stdout.write(f"  signing: {broker.email}'s demo requests already present.")
        return True
    return False


def _broker1_requests(broker, backoffice, client1, client2, stdout) -> None:
    """Every state: client1 has one to sign, one opened, one signed; client2 a processed and a declined one."""
    if _already_written(broker, stdout):
        return
    keys = {person.user_id: person.key for person in addressbook.addressee_list(actor=broker)}
    if client1 is None or client1.pk not in keys:
        stdout.write("  signing: client1 is not in broker1's client book; no demo requests.")
        return
    key1 = keys[client1.pk]
    key2 = keys.get(client2.pk) if client2 is not None else None
    portfolio1 = _first_portfolio(broker, key1)

    def create(key, kind, **fields):
        return _create(broker, key, kind, **fields)

    transfer = dict(
        kind=SignatureRequest.Kind.FUND_TRANSFER,
        amount="12500.00",
        currency="EUR",
        portfolio_reference=portfolio1,
        payee_name="Clara Schmidt",
        payee_iban=IBAN_EXAMPLE,
    )

    # Waiting for client1: the one to sign live in the demo.
    waiting = create(
        key1,
        **transfer,
        payment_reference="Withdrawal for a flat purchase",
        message="Please confirm the withdrawal we discussed on the phone. The order form is attached.",
        attachments=[
            _pdf("Withdrawal order", "Transfer of EUR 12,500.00 to Clara Schmidt, DE89 3704 0044 0532 0130 00.")
        ],
    )
    services.signature_request_send(actor=broker, request_id=waiting.pk)

    # Opened by client1 but not signed yet.
    profile = create(
        key1,
        SignatureRequest.Kind.DOCUMENT,
        title="Updated investor profile",
        message="Your annual suitability review: please confirm the investor profile we completed together.",
        attachments=[_pdf("Investor profile", "Risk class 4 of 7. Horizon: 10 years. Experience: funds, equities.")],
    )
    services.signature_request_send(actor=broker, request_id=profile.pk)
    services.signature_request_mark_viewed(actor=client1, request=SignatureRequest.objects.get(pk=profile.pk))

    # Signed by client1, waiting in the back-office inbox.
    signed = create(
        key1,
        **{
            **transfer,
            "amount": "3000.00",
            "payee_name": "Hausverwaltung Weber GmbH",
            "payee_iban": "DE02120300000000202051",
        },
        payment_reference="Service charge 2026",
        attachments=[_png()],
    )
    _sign_as_client(broker, client1, signed)

    if key2 is not None:
        portfolio2 = _first_portfolio(broker, key2)
        # Signed by client2 and processed by the back office.
        subscription = create(
            key2,
            SignatureRequest.Kind.PRODUCT_SUBSCRIPTION,
            product_name="Alpha Global Equity Fund (IE00B4L5Y983)",
            amount="25000.00",
            currency="EUR",
            portfolio_reference=portfolio2,
            message="Subscription as agreed in our meeting; the key information document is attached.",
            attachments=[_pdf("Key information document", "Alpha Global Equity Fund. Risk indicator 4 of 7.")],
        )
        _sign_as_client(broker, client2, subscription)
        services.signature_request_handle(
            actor=backoffice, request_id=subscription.pk, outcome="processed", comment="Booked in the core system."
        )
        # Declined by client2.
        declined = create(
            key2,
            **{
                **transfer,
                "portfolio_reference": portfolio2,
                "amount": "800.00",
                "payee_name": "Carl Weber",
                "payee_iban": "DE02500105170137075030",
            },
        )
        services.signature_request_send(actor=broker, request_id=declined.pk)
        services.signature_request_decline(
            actor=client2, request_id=declined.pk, reason="I will make this transfer myself next month."
        )
        # A draft broker1 is still writing.
        create(
            key2,
            SignatureRequest.Kind.PRODUCT_SUBSCRIPTION,
            product_name="Alpha Euro Bond Fund",
            amount="10000.00",
            currency="EUR",
            portfolio_reference=portfolio2,
        )

    # Withdrawn by broker1.
    cancelled = create(
        key1, SignatureRequest.Kind.DOCUMENT, title="Change of address", message="New address: Lindenstraße 5."
    )
    services.signature_request_send(actor=broker, request_id=cancelled.pk)
    services.signature_request_cancel(actor=broker, request_id=cancelled.pk, reason="The client updated it online.")


def _broker3_requests(broker, client, stdout) -> None:
    """client3 (broker3's client, Beta Capital): a subscription waiting to be signed and a signed agreement."""
    if _already_written(broker, stdout):
        return
    keys = {person.user_id: person.key for person in addressbook.addressee_list(actor=broker)}
    if client.pk not in keys:
        stdout.write("  signing: client3 is not in broker3's client book; no demo requests for them.")
        return
    key = keys[client.pk]
    portfolio = _first_portfolio(broker, key)
    waiting = _create(
        broker,
        key,
        SignatureRequest.Kind.PRODUCT_SUBSCRIPTION,
        product_name="Beta Balanced Income Fund",
        amount="5000.00",
        currency="EUR",
        portfolio_reference=portfolio,
        message="The subscription we talked about last week. The key information document is attached.",
        attachments=[_pdf("Key information document", "Beta Balanced Income Fund. Risk indicator 3 of 7.")],
    )
    services.signature_request_send(actor=broker, request_id=waiting.pk)
    agreement = _create(
        broker,
        key,
        SignatureRequest.Kind.DOCUMENT,
        title="Advisory agreement 2026",
        message="Our advisory agreement for the new year, unchanged apart from the fee table on page 2.",
        attachments=[_pdf("Advisory agreement 2026", "Advisory fee 0.8 % a year on the value of the portfolio.")],
    )
    _sign_as_client(broker, client, agreement)


def _first_portfolio(broker, key) -> str:
    accounts = addressbook.account_list(actor=broker, key=key)
    return accounts[0].reference if accounts else ""


def _sign_as_client(broker, client, request) -> None:
    services.signature_request_send(actor=broker, request_id=request.pk)
    request = services.signature_request_mark_viewed(actor=client, request=SignatureRequest.objects.get(pk=request.pk))
    sent = services.signing_code_request(actor=client, request_id=request.pk, content_hash=request.content_hash)
    body = dev_message_text(message=sent.send.outbox_message)
    code = re.search(r"(?<!\d)\d{6}(?!\d)", body).group(0)
    services.signature_request_sign(actor=client, request_id=request.pk, code=code, content_hash=request.content_hash)


def _pdf(title: str, text: str) -> SimpleUploadedFile:
    html = render_to_string("signing/pdf/demo_document.html", {"title": title, "text": text})
    data = pdf_from_html(html, identifier=b"partnerzone-demo-document-00000")
    return SimpleUploadedFile(f"{title}.pdf", data, content_type="application/pdf")


def _png() -> SimpleUploadedFile:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 360), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle([20, 20, 620, 340], outline="navy", width=4)
    draw.text((40, 40), "Invoice 2026-114 · Hausverwaltung Weber GmbH", fill="black")
    draw.text((40, 80), "Service charge 2026: EUR 3,000.00", fill="black")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return SimpleUploadedFile("invoice.png", buffer.getvalue(), content_type="image/png")
