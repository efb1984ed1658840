"""Reading bank statements: camt.053 (account statement) and camt.054 (debit/credit notification).

`parse_bank_statement(data)` returns a `BankStatement` with one `StatementEntry` per transaction:
an entry (Ntry) that carries several transaction details (TxDtls, a batch booking such as the
credit of a whole direct debit file) gives one `StatementEntry` per TxDtls, each with its own
amount; an entry with one or no TxDtls gives one.

Versions: the ISO 20022 namespaces `urn:iso:std:iso:20022:tech:xsd:camt.053.001.NN` and
`…camt.054.001.NN` for NN from 02 to 08. Elements are read by their local names, so the namespace
only tells the kind; where the versions differ the parser reads both forms (status `<Sts>BOOK</Sts>`
in .02 and `<Sts><Cd>BOOK</Cd></Sts>` from .07; the debtor `Dbtr/Nm` in .02 and `Dbtr/Pty/Nm`
from .07; a transaction's amount in `TxDtls/Amt` (.08) or `TxDtls/AmtDtls/TxAmt/Amt`). Tested
with .02 and .08 files. One statement (Stmt) or notification (Ntfctn) per file.

Safety: the XML is parsed by the standard library's expat after a first pass that refuses any
DOCTYPE or ENTITY declaration (camt files never have one; this rules out entity expansion and
external entities, as defusedxml would), and files over 50 MB are refused.

Bad input raises `BankStatementError` with a translated message naming the entry (its position
and reference); nothing partial is returned.
"""

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from xml.parsers import expat

from django.utils.translation import gettext as _

MAX_BYTES = 50 * 1024 * 1024
KINDS = {"BkToCstmrStmt": ("camt.053", "Stmt"), "BkToCstmrDbtCdtNtfctn": ("camt.054", "Ntfctn")}
STATUSES = ("BOOK", "PDNG", "INFO")
NOT_PROVIDED = "NOTPROVIDED"

_NAMESPACE = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:(camt\.05[34])\.001\.(0[2-8])$")
_AMOUNT = re.compile(r"^\d{1,18}(\.\d{1,5})?$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_BOOLEAN = {"true": True, "1": True, "false": False, "0": False}


class BankStatementError(ValueError):
    """The file is not a bank statement this module can read; the message says why and where."""


@dataclass(frozen=True)
class StatementEntry:
    """One transaction on the statement (one TxDtls, or the entry itself when it has none)."""

    entry_number: int  # position of its Ntry in the file, from 1
    entry_reference: str | None  # NtryRef, else AcctSvcrRef
    booking_date: date | None
    value_date: date | None
    amount: Decimal
    currency: str
    credit_debit: str  # "CRDT" or "DBIT"
    reversal: bool  # RvslInd
    status: str  # "BOOK", "PDNG" or "INFO"
    end_to_end_id: str | None  # None when absent or NOTPROVIDED
    mandate_id: str | None
    remittance: str  # the Ustrd lines joined by a space
    debtor_name: str | None
    debtor_iban: str | None
    return_reason: str | None  # RtrInf/Rsn/Cd (or Prtry), e.g. AC04, MD06, AM04


@dataclass(frozen=True)
class BankStatement:
    kind: str  # "camt.053" or "camt.054"
    version: str  # "001.02" … "001.08"
    account_iban: str
    statement_id: str
    created_at: datetime
    entries: list[StatementEntry]


def parse_bank_statement(data: bytes) -> BankStatement:
    """Read a camt.053 or camt.054 file; raise `BankStatementError` if it cannot be read whole."""
    if not isinstance(data, bytes | bytearray):
        raise BankStatementError(_("A bank statement is read from the file's bytes."))
    data = bytes(data)
    if not data.strip():
        raise BankStatementError(_("The file is empty."))
    if len(data) > MAX_BYTES:
        raise BankStatementError(_("The file is larger than 50 MB; ask the bank for one statement per file."))
    _refuse_declarations(data)
    try:
        root = ET.fromstring(data)  # noqa: S314 - DOCTYPE and ENTITY declarations were refused above
    except ET.ParseError as exc:
        raise BankStatementError(_("The file is not well-formed XML: %(detail)s") % {"detail": exc}) from exc

    kind, version, body_tag, root = _identify(root)
    bodies = [child for child in root if child.tag == body_tag]
    if len(bodies) != 1:
        raise BankStatementError(
            _("The file holds %(count)d statements; import files with exactly one.") % {"count": len(bodies)}
        )
    body = bodies[0]
    account_iban = _text(body, "Acct/Id/IBAN")
    if not account_iban:
        raise BankStatementError(_("The statement does not name the account's IBAN (Acct/Id/IBAN)."))
    statement_id = _text(body, "Id")
    if not statement_id:
        raise BankStatementError(_("The statement has no id (Id)."))
    created_text = _text(body, "CreDtTm") or _text(root.find("GrpHdr"), "CreDtTm")
    created_at = _datetime(created_text, where=_("the statement's creation time (CreDtTm)"))

    entries = []
    for number, entry in enumerate(body.findall("Ntry"), start=1):
        entries.extend(_entries(entry, number=number))
    return BankStatement(
        kind=kind,
        version=version,
        account_iban=account_iban.replace(" ", "").upper(),
        statement_id=statement_id,
        created_at=created_at,
        entries=entries,
    )


def _refuse_declarations(data: bytes) -> None:
    """A first pass with expat that stops at any DOCTYPE or ENTITY declaration, before any expansion."""

    def refuse(*_args):
        raise BankStatementError(_("The file declares a DOCTYPE or entities; bank statements never do."))

    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise BankStatementError(_("The file is not well-formed XML: %(detail)s") % {"detail": exc}) from exc


def _identify(root: ET.Element) -> tuple[str, str, str, ET.Element]:
    """(kind, version, tag of the statement element, message element); tags stripped of namespaces."""
    namespace, _sep, local = root.tag[1:].partition("}") if root.tag.startswith("{") else ("", "", root.tag)
    match = _NAMESPACE.match(namespace)
    if local != "Document" or not match:
        raise BankStatementError(
            _("This is not a camt.053 or camt.054 file: its root is %(root)s in the namespace %(namespace)s.")
            % {"root": local, "namespace": namespace or _("(none)")}
        )
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.startswith("{"):
            element.tag = element.tag.split("}", 1)[1]
    message = root[0] if len(root) else None
    if message is None or message.tag not in KINDS:
        raise BankStatementError(
            _("The document holds %(tag)s, not a statement (BkToCstmrStmt) or notification (BkToCstmrDbtCdtNtfctn).")
            % {"tag": message.tag if message is not None else _("nothing")}
        )
    kind, body_tag = KINDS[message.tag]
    if kind != match.group(1):
        raise BankStatementError(
            _("The namespace says %(namespace_kind)s but the document holds a %(kind)s message.")
            % {"namespace_kind": match.group(1), "kind": kind}
        )
    return kind, f"001.{match.group(2)}", body_tag, message


def _entries(entry: ET.Element, *, number: int) -> list[StatementEntry]:
    reference = _text(entry, "NtryRef") or _text(entry, "AcctSvcrRef")
    where = (
        _("entry %(number)d (reference %(reference)s)") % {"number": number, "reference": reference}
        if reference
        else _("entry %(number)d") % {"number": number}
    )
    amount, currency = _amount(entry.find("Amt"), where=where)
    credit_debit = _credit_debit(_text(entry, "CdtDbtInd"), where=where)
    reversal_text = _text(entry, "RvslInd")
    if reversal_text is not None and reversal_text.lower() not in _BOOLEAN:
        raise BankStatementError(
            _("In %(where)s the reversal indicator %(value)s is neither true nor false.")
            % {"where": where, "value": reversal_text}
        )
    reversal = _BOOLEAN.get((reversal_text or "false").lower(), False)
    status = _text(entry, "Sts/Cd") or _text(entry, "Sts")
    if status not in STATUSES:
        raise BankStatementError(
            _("In %(where)s the status %(status)s is not BOOK, PDNG or INFO.") % {"where": where, "status": status}
        )
    booking_date = _date(entry.find("BookgDt"), where=where, label=_("booking date"))
    value_date = _date(entry.find("ValDt"), where=where, label=_("value date"))
    if status == "BOOK" and booking_date is None:
        raise BankStatementError(_("In %(where)s a booked entry has no booking date.") % {"where": where})

    details = entry.findall("NtryDtls/TxDtls")
    common = {
        "entry_number": number,
        "entry_reference": reference,
        "booking_date": booking_date,
        "value_date": value_date,
        "reversal": reversal,
        "status": status,
    }
    if not details:
        return [
            StatementEntry(
                **common,
                amount=amount,
                currency=currency,
                credit_debit=credit_debit,
                end_to_end_id=None,
                mandate_id=None,
                remittance="",
                debtor_name=None,
                debtor_iban=None,
                return_reason=None,
            )
        ]
    rows = []
    for index, detail in enumerate(details, start=1):
        detail_where = (
            _("transaction %(index)d of %(where)s") % {"index": index, "where": where} if len(details) > 1 else where
        )
        amount_element = _first(detail, "Amt", "AmtDtls/TxAmt/Amt", "AmtDtls/InstdAmt/Amt")
        if amount_element is None and len(details) > 1:
            raise BankStatementError(
                _("%(where)s has no amount (a batch entry needs one per transaction).")
                % {"where": _capital(detail_where)}
            )
        tx_amount, tx_currency = (
            (amount, currency) if amount_element is None else _amount(amount_element, where=detail_where)
        )
        tx_credit_debit = _credit_debit(_text(detail, "CdtDbtInd") or credit_debit, where=detail_where)
        end_to_end_id = _text(detail, "Refs/EndToEndId")
        rows.append(
            StatementEntry(
                **common,
                amount=tx_amount,
                currency=tx_currency,
                credit_debit=tx_credit_debit,
                end_to_end_id=None if end_to_end_id in (None, NOT_PROVIDED) else end_to_end_id,
                mandate_id=_text(detail, "Refs/MndtId"),
                remittance=" ".join(
                    line.text.strip() for line in detail.findall("RmtInf/Ustrd") if line.text and line.text.strip()
                ),
                debtor_name=_text(detail, "RltdPties/Dbtr/Pty/Nm") or _text(detail, "RltdPties/Dbtr/Nm"),
                debtor_iban=(_text(detail, "RltdPties/DbtrAcct/Id/IBAN") or "").replace(" ", "").upper() or None,
                return_reason=_text(detail, "RtrInf/Rsn/Cd") or _text(detail, "RtrInf/Rsn/Prtry"),
            )
        )
    return rows


def _amount(element: ET.Element | None, *, where: str) -> tuple[Decimal, str]:
    if element is None:
        raise BankStatementError(_("%(where)s has no amount (Amt).") % {"where": _capital(where)})
    text = (element.text or "").strip()
    if not _AMOUNT.match(text):
        raise BankStatementError(
            _("In %(where)s the amount %(amount)s is not a number like 1234.56.")
            % {"where": where, "amount": repr(text)}
        )
    currency = (element.get("Ccy") or "").strip()
    if not _CURRENCY.match(currency):
        raise BankStatementError(
            _("In %(where)s the currency %(currency)s is not a three-letter ISO 4217 code.")
            % {"where": where, "currency": repr(currency)}
        )
    return Decimal(text), currency


def _credit_debit(value: str | None, *, where: str) -> str:
    if value not in ("CRDT", "DBIT"):
        raise BankStatementError(
            _("In %(where)s the credit/debit indicator %(value)s is neither CRDT nor DBIT.")
            % {"where": where, "value": repr(value)}
        )
    return value


def _date(element: ET.Element | None, *, where: str, label: str) -> date | None:
    if element is None:
        return None
    day, moment = _text(element, "Dt"), _text(element, "DtTm")
    try:
        if day:
            return date.fromisoformat(day)
        if moment:
            return datetime.fromisoformat(moment).date()
    except ValueError as exc:
        raise BankStatementError(
            _("In %(where)s the %(label)s %(value)s is not a date.")
            % {"where": where, "label": label, "value": day or moment}
        ) from exc
    raise BankStatementError(_("In %(where)s the %(label)s is empty.") % {"where": where, "label": label})


def _datetime(value: str | None, *, where: str) -> datetime:
    if not value:
        raise BankStatementError(_("The file does not give %(where)s.") % {"where": where})
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise BankStatementError(
            _("%(where)s %(value)s is not a date and time.") % {"where": _capital(where), "value": value}
        ) from exc


def _text(element: ET.Element | None, path: str) -> str | None:
    if element is None:
        return None
    found = element.find(path)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None


def _first(element: ET.Element, *paths: str) -> ET.Element | None:
    for path in paths:
        found = element.find(path)
        if found is not None:
            return found
    return None


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
