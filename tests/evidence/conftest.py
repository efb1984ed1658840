"""Cases to build evidence packs for: a signed fund transfer (signed from a known address and phone,
with its PDF rendered) and a paid commission statement with its PDF. Files land in a temporary
MEDIA_ROOT (the signing tests' autouse fixture)."""

import hashlib
import io
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.test import RequestFactory
from django.utils import timezone

from commissions.models import Statement
from portal.accounts.roles import Role
from portal.audit import context as audit_context
from portal.audit.services import audit_record
from portal.evidence import registry, services
from portal.evidence.models import EvidencePack
from signing import pdf
from tests.factories import UserFactory
from tests.signing.conftest import _media, book, pdf_bytes, request_code, sign, transfer, upload  # noqa: F401

SIGNER_IP = "198.51.100.23"
SIGNER_DEVICE = "Mozilla/5.0 (Linux; Android 14) TestPhone/1.0"


@pytest.fixture
def compliance(cast):
    return UserFactory(email="compliance@example.com", is_staff=True, roles=[Role.COMPLIANCE])


@pytest.fixture
def signed(cast, book):  # noqa: F811 (the signing tests' book fixture)
    """Anna's signed transfer to Müller & Söhne, signed from SIGNER_IP on SIGNER_DEVICE, its PDF rendered."""
    request = transfer(
        cast.broker1,
        book.anna,
        amount="12500.00",
        payee_name="Müller & Söhne GmbH",
        attachments=[upload("order.pdf"), upload("annex.pdf", pdf_bytes("Annex"))],
    )
    code = request_code(request, cast.client1)
    token = audit_context._current.set(
        audit_context.RequestContext(
            request_id="req-signing-0001",
            request=RequestFactory().post("/", REMOTE_ADDR=SIGNER_IP, HTTP_USER_AGENT=SIGNER_DEVICE),
        )
    )
    try:
        sign(request, cast.client1, code)
    finally:
        audit_context._current.reset(token)
    return pdf.signed_pdf_render(request_id=request.pk).request


@pytest.fixture
def statement(cast):
    """broker1's September statement: prepared by admin, approved and paid by backoffice, with its PDF."""
    moment = timezone.now()
    statement = Statement.objects.create(
        beneficiary=cast.broker1,
        firm=cast.alpha,
        period=date(2026, 9, 1),
        status=Statement.Status.PAID,
        total=Decimal("1234.56"),
        upfront=Decimal("1000.00"),
        trailing=Decimal("234.56"),
        accrual_count=7,
        prepared_by=cast.admin,
        prepared_at=moment,
        approved_by=cast.backoffice,
        approved_at=moment,
        paid_by=cast.backoffice,
        paid_at=moment,
        payment_reference="PAY-2026-09-001",
    )
    data = pdf_bytes("Commission statement September 2026")
    statement.pdf.save("statement.pdf", ContentFile(data), save=False)
    statement.pdf_sha256 = hashlib.sha256(data).hexdigest()
    statement.save()
    audit_record(action="commissions.statement_approved", actor=cast.backoffice, obj=statement)
    return statement


@pytest.fixture
def build(django_capture_on_commit_callbacks):
    """`build(actor, obj)`: request a pack and run what the commit queues (the task, eagerly)."""

    def _build(actor, obj) -> EvidencePack:
        with django_capture_on_commit_callbacks(execute=True):
            pack = services.evidence_pack_request(actor=actor, obj=obj)
        return EvidencePack.objects.get(pk=pack.pk)

    return _build


@pytest.fixture
def extra_section():
    """Register sections for one test, and put back what was there after it (a test may stand in for
    the real "thread" or "approvals" section; the tests after it need the real one)."""
    before = dict(registry._sections)

    def _register(key, build_fn, *, order=50):
        return registry.register_evidence_section(key, build_fn, order=order)

    yield _register
    registry._sections.clear()
    registry._sections.update(before)


def zip_of(pack: EvidencePack) -> zipfile.ZipFile:
    with pack.file.open("rb") as handle:
        return zipfile.ZipFile(io.BytesIO(handle.read()))


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def flat(text: str) -> str:
    """Text without whitespace: a hash broken over two lines of a table cell reads whole again."""
    return "".join(text.split())
