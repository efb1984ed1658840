"""What is signed: the content hash changes with any single field or any single byte of an attachment."""

import hashlib
import io
from decimal import Decimal
from types import SimpleNamespace
from uuid import UUID

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from signing import limits
from signing.content import content_document, document_hash, file_sha256, fingerprint
from signing.validators import iban_display, iban_validate

from .conftest import IBAN, IBAN_OTHER

FIELDS = {
    "title": "Transfer to Max",
    "message": "As discussed.",
    "amount": Decimal("1250.00"),
    "currency": "EUR",
    "portfolio_reference": "P1",
    "portfolio_label": "Depot P1 (P1)",
    "payee_name": "Max Mustermann",
    "payee_iban": IBAN,
    "payment_reference": "Deposit",
    "product_name": "",
}


def a_request(**changes):
    values = {
        "uuid": UUID("12345678-1234-5678-1234-567812345678"),
        "kind": "fund_transfer",
        "recipient_id": 7,
        "sender_id": 3,
        **FIELDS,
        **changes,
    }
    return SimpleNamespace(**values)


def an_attachment(data: bytes, name="order.pdf"):
    return SimpleNamespace(
        name=name, content_type="application/pdf", size=len(data), sha256=hashlib.sha256(data).hexdigest()
    )


BASE_FILE = b"%PDF-1.4 transfer order for Max Mustermann %%EOF"


def content_hash(request, files=(BASE_FILE,)):
    return document_hash(content_document(request, [an_attachment(f) for f in files]))


def test_the_same_content_hashes_the_same_and_amount_spelling_does_not_matter():
    assert content_hash(a_request()) == content_hash(a_request())
    assert content_hash(a_request(amount=Decimal("1250"))) == content_hash(a_request(amount=Decimal("1250.00")))


TEXT_FIELDS = ["title", "message", "currency", "portfolio_reference", "portfolio_label", "payee_name", "payee_iban", "payment_reference"]  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(field=st.sampled_from(TEXT_FIELDS), new=st.text(max_size=40))
def test_any_change_to_a_single_field_changes_the_hash(field, new):
    if new == FIELDS[field]:
        return
    assert content_hash(a_request(**{field: new})) != content_hash(a_request())


@settings(max_examples=100, deadline=None)
@given(cents=st.integers(min_value=1, max_value=10**12))
def test_any_other_amount_changes_the_hash(cents):
    amount = Decimal(cents) / 100
    if amount == FIELDS["amount"]:
        return
    assert content_hash(a_request(amount=amount)) != content_hash(a_request())


@settings(max_examples=300, deadline=None)
@given(position=st.integers(min_value=0, max_value=len(BASE_FILE) - 1), flip=st.integers(min_value=1, max_value=255))
def test_any_single_byte_change_in_an_attachment_changes_the_hash(position, flip):
    changed = bytearray(BASE_FILE)
    changed[position] ^= flip
    assert content_hash(a_request(), files=[bytes(changed)]) != content_hash(a_request())


def test_adding_removing_or_reordering_attachments_changes_the_hash():
    base = content_hash(a_request(), files=[BASE_FILE, b"second"])
    assert content_hash(a_request(), files=[BASE_FILE]) != base
    assert content_hash(a_request(), files=[b"second", BASE_FILE]) != base
    assert content_hash(a_request(), files=[BASE_FILE, b"second", b"third"]) != base


def test_the_recipient_kind_and_reference_are_part_of_the_content():
    base = content_hash(a_request())
    assert content_hash(a_request(recipient_id=8)) != base
    assert content_hash(a_request(kind="document")) != base
    assert content_hash(a_request(uuid=UUID(int=1))) != base


@settings(max_examples=100, deadline=None)
@given(field=st.sampled_from(TEXT_FIELDS), new=st.text(min_size=1, max_size=20))
def test_a_code_for_one_content_never_matches_another(field, new):
    if new == FIELDS[field]:
        return
    code = "123456"
    old_hash, new_hash = content_hash(a_request()), content_hash(a_request(**{field: new}))
    challenge = SimpleNamespace(pk=1, code_hash=limits.code_digest(challenge_id=1, content_hash=old_hash, code=code))
    assert limits.code_matches(challenge=challenge, content_hash=old_hash, code=code)
    assert not limits.code_matches(challenge=challenge, content_hash=new_hash, code=code)


def test_codes_are_six_digits_and_vary():
    codes = {limits.code_generate() for _ in range(200)}
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert len(codes) > 150


def test_the_stored_code_hash_depends_on_the_key_and_the_challenge(settings):
    settings.SIGNING_CODE_KEY = "one key"
    first = limits.code_digest(challenge_id=1, content_hash="a" * 64, code="123456")
    assert first != limits.code_digest(challenge_id=2, content_hash="a" * 64, code="123456")
    settings.SIGNING_CODE_KEY = "another key"
    assert first != limits.code_digest(challenge_id=1, content_hash="a" * 64, code="123456")
    assert "123456" not in first


def test_the_fingerprint_is_the_hash_head_in_groups():
    assert fingerprint("3f2a9c1d0b7e44a1" + "0" * 48) == "3F2A 9C1D 0B7E 44A1"


def test_file_hashes_read_from_the_start():
    handle = io.BytesIO(b"abc")
    handle.read()
    assert file_sha256(handle) == hashlib.sha256(b"abc").hexdigest()


class TestIban:
    @pytest.mark.parametrize(
        "raw",
        [IBAN, IBAN_OTHER, "de89 3704 0044 0532 0130 00", "GB82WEST12345698765432", "CH9300762011623852957"],
    )
    def test_valid_ibans_are_normalised(self, raw):
        assert iban_validate(raw) == raw.replace(" ", "").upper()

    @pytest.mark.parametrize(
        ("raw", "code"),
        [
            ("DE89370400440532013001", "iban"),
            ("DE893704004405320130", "iban_length"),
            ("US12345678901234567890", "iban_country"),
            ("1234", "iban"),
            ("", "iban"),
            ("DE89-3704-0044-0532-0130-0O", "iban"),
        ],
    )
    def test_invalid_ibans_are_refused(self, raw, code):
        with pytest.raises(ValidationError) as error:
            iban_validate(raw)
        assert error.value.code == code

    def test_ibans_are_shown_in_groups_of_four(self):
        assert iban_display(IBAN) == "DE89 3704 0044 0532 0130 00"
