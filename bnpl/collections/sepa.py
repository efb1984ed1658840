"""The SEPA Core direct debit file (pain.008) for one collection day, built with sepaxml.

`direct_debit_file()` checks everything first and raises one `ValidationError` that lists every
problem (each naming its collection); only when all is well does it build the file, which sepaxml
then validates against the message's XSD (bundled with sepaxml, checked with xmlschema). Nothing
is produced when anything is wrong.

Version: pain.008.001.02 by default (sepaxml's default and most used path, widely accepted by
banks); pain.008.001.08 (the 2019 ISO 20022 version the EPC rulebooks moved to in November 2023)
on request with `schema=`. Both are validated against their XSD.

Checks (docs/bnpl-collections.md has the table):
- IBANs by schwifty (country format, length, check digits) and in the SEPA zone; BICs by schwifty
  (format and country); a debtor's BIC is optional (the file says NOTPROVIDED), the creditor's is
  required by pain.008.001.02.
- The SEPA creditor identifier (EPC262-08): country code, two check digits, a three-character
  creditor business code (usually ZZZ) and the national identifier (up to 28 letters or digits).
  The check digits are ISO 7064 MOD 97-10 over the national identifier followed by the country
  code and the check digits, the business code left out (letters count A=10 … Z=35); the number
  mod 97 must be 1, as for an IBAN. schwifty does not check these, so this module does.
- Amounts: `Decimal`, more than 0, at most 2 decimals, at most 999,999,999.99; currency EUR only.
  sepaxml takes whole cents, converted exactly from the Decimal.
- References (message id, end-to-end id, mandate id): 1–35 characters of the SEPA character set
  (a–z A–Z 0–9 / - ? : ( ) . , ' + and space), not starting or ending with "/" and without "//";
  end-to-end ids unique within the file.
- Sequence FRST (first collection under a mandate) or RCUR; mandate signed on or before the
  collection date; a remittance text of 1–140 characters. Names and texts are transliterated to
  Latin letters (text_unidecode, as sepaxml does: "Jörg" → "Jorg", "Иван" → "Ivan") and names cut
  to 70 characters by sepaxml; a name or text with nothing left after that is refused.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from schwifty import BIC, IBAN
from schwifty import exceptions as schwifty_errors
from sepaxml import SepaDD
from sepaxml.validation import ValidationError as SepaXsdError
from text_unidecode import unidecode  # sepaxml's own transliteration (a dependency of sepaxml)

SCHEMA = "pain.008.001.02"
SCHEMAS = ("pain.008.001.02", "pain.008.001.08")
SEQUENCES = ("FRST", "RCUR")
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999.99")
MAX_REMITTANCE = 140

_SEPA_REFERENCE = re.compile(r"^[A-Za-z0-9/\-?:().,'+ ]{1,35}$")
_CREDITOR_ID = re.compile(r"^([A-Z]{2})(\d{2})([A-Z0-9]{3})([A-Z0-9]{1,28})$")


@dataclass(frozen=True)
class Creditor:
    """Who collects: the account the money goes to and the creditor identifier from the bank."""

    name: str
    iban: str
    bic: str | None
    creditor_id: str


@dataclass(frozen=True)
class Collection:
    """One debit from a debtor's account under a signed mandate."""

    end_to_end_id: str
    debtor_name: str
    debtor_iban: str
    debtor_bic: str | None
    mandate_id: str
    mandate_date: date
    amount: Decimal
    currency: str
    remittance: str
    sequence: str  # "FRST" or "RCUR"


def direct_debit_file(
    *,
    creditor: Creditor,
    collections: list[Collection],
    collection_date: date,
    message_id: str,
    schema: str = SCHEMA,
) -> bytes:
    """Return the pain.008 XML (UTF-8 bytes) debiting `collections` on `collection_date`.

    Raises `ValidationError` listing every problem; nothing is built then.
    """
    if schema not in SCHEMAS:
        raise ValueError(f"unsupported schema {schema!r}; use one of {SCHEMAS}")
    shape_errors = _file_errors(creditor=creditor, collections=collections, collection_date=collection_date)
    errors = shape_errors + _message_id_errors(message_id)
    if not shape_errors:  # the details can only be read from a creditor and a list of collections
        errors += _creditor_errors(creditor, schema=schema)
        for number, collection in enumerate(collections, start=1):
            errors += _collection_errors(collection, number=number, collection_date=collection_date)
        errors += _duplicate_errors(collections)
    if errors:
        raise ValidationError(errors)

    config = {
        "name": latin(creditor.name),
        "IBAN": IBAN(creditor.iban).compact,
        "batch": True,
        "creditor_id": creditor.creditor_id.replace(" ", "").upper(),
        "currency": "EUR",
        "instrument": "CORE",
    }
    if creditor.bic:
        config["BIC"] = BIC(creditor.bic).compact
    document = _SepaDirectDebit(config, message_id=message_id, schema=schema)
    for collection in collections:
        payment = {
            "name": latin(collection.debtor_name),
            "IBAN": IBAN(collection.debtor_iban).compact,
            "amount": amount_in_cents(collection.amount),
            "currency": "EUR",
            "type": collection.sequence,
            "collection_date": collection_date,
            "mandate_id": collection.mandate_id,
            "mandate_date": collection.mandate_date,
            "description": latin(collection.remittance),
            "endtoend_id": collection.end_to_end_id,
        }
        if collection.debtor_bic:
            payment["BIC"] = BIC(collection.debtor_bic).compact
        document.add_payment(payment)
    try:
        return document.export(validate=True)
    except SepaXsdError as exc:  # every field was checked above; this is a safety net, not a path
        cause = exc.__cause__
        raise ValidationError(
            _("The direct debit file does not match the %(schema)s schema at %(path)s: %(reason)s"),
            code="sepa_schema",
            params={"schema": schema, "path": getattr(cause, "path", "?"), "reason": getattr(cause, "reason", exc)},
        ) from exc


def amount_in_cents(amount: Decimal) -> int:
    """Whole cents of a checked EUR amount, exactly (no float on the way)."""
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"{amount} has more than two decimals")
    return int(cents)


def creditor_id_is_valid(value: str) -> bool:
    """True if `value` is a SEPA creditor identifier whose check digits match (see the module doc)."""
    match = _CREDITOR_ID.match((value or "").replace(" ", "").upper())
    if not match:
        return False
    country, check_digits, _business_code, national_id = match.groups()
    digits = "".join(str(int(char, 36)) for char in national_id + country + check_digits)
    return int(digits) % 97 == 1


def is_sepa_reference(value: str) -> bool:
    """True if `value` may be a message, end-to-end or mandate id (see the module doc)."""
    return (
        isinstance(value, str)
        and bool(_SEPA_REFERENCE.match(value))
        and not value.startswith("/")
        and not value.endswith("/")
        and "//" not in value
    )


class _SepaDirectDebit(SepaDD):
    """SepaDD with the caller's message id instead of a random one."""

    def __init__(self, config, *, message_id: str, schema: str):
        self._message_id = message_id
        super().__init__(config, schema=schema, clean=True)

    def _create_header(self):
        self.msg_id = self._message_id
        super()._create_header()


def _file_errors(*, creditor, collections, collection_date) -> list[ValidationError]:
    errors = []
    if not isinstance(creditor, Creditor):
        errors.append(ValidationError(_("The creditor is missing."), code="creditor"))
    if not collections:
        errors.append(
            ValidationError(_("There is nothing to collect: the list of collections is empty."), code="empty")
        )
    elif not all(isinstance(item, Collection) for item in collections):
        errors.append(ValidationError(_("Every collection must be a Collection."), code="collection_type"))
    if not _is_plain_date(collection_date):
        errors.append(ValidationError(_("The collection date must be a date."), code="collection_date"))
    return errors


def _message_id_errors(message_id) -> list[ValidationError]:
    errors = []
    if not is_sepa_reference(message_id):
        errors.append(
            ValidationError(
                _(
                    "The message id %(value)s is not a SEPA reference: 1 to 35 letters, digits or / - ? : ( ) . , ' + and spaces."
                ),
                code="message_id",
                params={"value": repr(message_id)},
            )
        )
    return errors


def _creditor_errors(creditor: Creditor, *, schema: str) -> list[ValidationError]:
    errors = []
    if not latin(creditor.name):
        errors.append(ValidationError(_("The creditor's name is missing."), code="creditor_name"))
    iban_error = iban_problem(creditor.iban)
    if iban_error:
        errors.append(
            ValidationError(
                _("The creditor's IBAN %(iban)s is not valid: %(reason)s"),
                code="creditor_iban",
                params={"iban": creditor.iban, "reason": iban_error},
            )
        )
    if creditor.bic:
        bic_error = bic_problem(creditor.bic)
        if bic_error:
            errors.append(
                ValidationError(
                    _("The creditor's BIC %(bic)s is not valid: %(reason)s"),
                    code="creditor_bic",
                    params={"bic": creditor.bic, "reason": bic_error},
                )
            )
    elif schema == "pain.008.001.02":
        errors.append(
            ValidationError(_("The creditor's BIC is required in a pain.008.001.02 file."), code="creditor_bic")
        )
    if not creditor_id_is_valid(creditor.creditor_id):
        errors.append(
            ValidationError(
                _(
                    "The creditor identifier %(value)s is not valid: it is a country code, two check digits, a three-character business code and the national identifier, and its check digits must match."
                ),
                code="creditor_id",
                params={"value": creditor.creditor_id},
            )
        )
    return errors


def _collection_errors(collection: Collection, *, number: int, collection_date) -> list[ValidationError]:
    problems = []
    if not is_sepa_reference(collection.end_to_end_id):
        problems.append(
            _(
                "the end-to-end id must be 1 to 35 letters, digits or / - ? : ( ) . , ' + and spaces (no leading, trailing or double /)."
            )
        )
    if not latin(collection.debtor_name):
        problems.append(_("the debtor's name is missing (or has nothing that can be written in Latin letters)."))
    iban_error = iban_problem(collection.debtor_iban)
    if iban_error:
        problems.append(
            _("the debtor's IBAN %(iban)s is not valid: %(reason)s")
            % {"iban": collection.debtor_iban, "reason": iban_error}
        )
    if collection.debtor_bic:
        bic_error = bic_problem(collection.debtor_bic)
        if bic_error:
            problems.append(
                _("the debtor's BIC %(bic)s is not valid: %(reason)s")
                % {"bic": collection.debtor_bic, "reason": bic_error}
            )
    if not is_sepa_reference(collection.mandate_id):
        problems.append(_("the mandate id must be 1 to 35 letters, digits or / - ? : ( ) . , ' + and spaces."))
    if not _is_plain_date(collection.mandate_date):
        problems.append(_("the mandate's signing date must be a date."))
    elif _is_plain_date(collection_date) and collection.mandate_date > collection_date:
        problems.append(_("the mandate is signed after the collection date."))
    amount_error = _amount_error(collection.amount)
    if amount_error:
        problems.append(amount_error)
    if collection.currency != "EUR":
        problems.append(
            _("the currency is %(currency)s; SEPA direct debits are in EUR only.") % {"currency": collection.currency}
        )
    remittance = latin(collection.remittance)
    if not remittance:
        problems.append(_("the remittance text is missing."))
    elif len(remittance) > MAX_REMITTANCE:
        problems.append(
            _("the remittance text must be at most %(max)d characters in Latin letters.") % {"max": MAX_REMITTANCE}
        )
    if collection.sequence not in SEQUENCES:
        problems.append(_("the sequence type must be FRST (first debit under the mandate) or RCUR (a later one)."))
    return [
        ValidationError(
            _("Collection %(number)d (%(end_to_end_id)s): %(problem)s"),
            code="collection",
            params={"number": number, "end_to_end_id": collection.end_to_end_id, "problem": problem},
        )
        for problem in problems
    ]


def _duplicate_errors(collections: list[Collection]) -> list[ValidationError]:
    seen: dict[str, int] = {}
    errors = []
    for number, collection in enumerate(collections, start=1):
        first = seen.setdefault(collection.end_to_end_id, number)
        if first != number:
            errors.append(
                ValidationError(
                    _(
                        "Collection %(number)d (%(end_to_end_id)s): the end-to-end id is already used by collection %(first)d."
                    ),
                    code="duplicate_end_to_end_id",
                    params={"number": number, "end_to_end_id": collection.end_to_end_id, "first": first},
                )
            )
    return errors


def _amount_error(amount) -> str | None:
    if not isinstance(amount, Decimal):
        return _("the amount must be a Decimal, not %(type)s.") % {"type": type(amount).__name__}
    if not amount.is_finite() or amount <= 0:
        return _("the amount must be more than 0.")
    if amount > MAX_AMOUNT:
        return _("the amount must be at most 999,999,999.99.")
    if amount != amount.quantize(CENT):
        return _("the amount %(amount)s has more than two decimals.") % {"amount": amount}
    return None


def iban_problem(value) -> str | None:
    """Why `value` is not a SEPA IBAN, or None if it is one."""
    if not isinstance(value, str) or not value.strip():
        return _("it is missing.")
    try:
        iban = IBAN(value)
    except schwifty_errors.InvalidChecksumDigits:
        return _("its check digits do not match (a typo?).")
    except schwifty_errors.InvalidCountryCode:
        return _("the country code is unknown.")
    except schwifty_errors.InvalidLength:
        return _("it has the wrong length for its country.")
    except (schwifty_errors.InvalidStructure, schwifty_errors.SchwiftyException):
        return _("it does not have its country's format.")
    if not iban.in_sepa_zone:
        return _("%(country)s is not in the SEPA zone.") % {"country": iban.country_code}
    return None


def bic_problem(value) -> str | None:
    try:
        BIC(value)
    except schwifty_errors.InvalidCountryCode:
        return _("the country code is unknown.")
    except schwifty_errors.InvalidLength:
        return _("a BIC has 8 or 11 characters.")
    except schwifty_errors.SchwiftyException:
        return _("it does not have the BIC format (bank, country, location and optional branch code).")
    return None


def latin(text) -> str:
    """The text in Latin letters as it goes into the file (sepaxml transliterates the same way)."""
    return unidecode(text).strip() if isinstance(text, str) else ""


def _is_plain_date(value) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)
