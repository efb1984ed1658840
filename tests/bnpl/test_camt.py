"""Reading camt.053 statements and camt.054 notifications, and refusing what cannot be read whole."""

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from bnpl.collections.camt import BankStatementError, parse_bank_statement

FILES = Path(__file__).parent / "files"


def sample(name: str) -> bytes:
    return (FILES / name).read_bytes()


def edited(name: str, old: str, new: str, count: int = 1) -> bytes:
    text = sample(name).decode()
    assert text.count(old) >= count, f"{old!r} not in {name}"
    return text.replace(old, new, count).encode()


def test_it_reads_the_statement_header():
    statement = parse_bank_statement(sample("camt053_001_02.xml"))

    assert statement.kind == "camt.053"
    assert statement.version == "001.02"
    assert statement.account_iban == "DE89370400440532013000"
    assert statement.statement_id == "2024-03-04-DE89370400440532013000"
    assert statement.created_at == datetime(2024, 3, 4, 6, 15, tzinfo=timezone(timedelta(hours=1)))


def test_a_batch_entry_gives_one_line_per_transaction():
    statement = parse_bank_statement(sample("camt053_001_02.xml"))

    assert len(statement.entries) == 4  # three Ntry, the first with two TxDtls
    first, second = statement.entries[:2]
    assert (first.entry_number, second.entry_number) == (1, 1)
    assert (first.entry_reference, second.entry_reference) == ("NTRY-1", "NTRY-1")
    assert (first.end_to_end_id, first.amount, first.currency) == ("PZ-1001-1", Decimal("25.10"), "EUR")
    assert (second.end_to_end_id, second.amount) == ("PZ-1002-3", Decimal("100.00"))
    assert first.amount + second.amount == Decimal("125.10")  # the booked batch
    assert first.mandate_id == "MANDATE-1001"
    assert first.remittance == "Order 1001 instalment 1 of 4"  # two Ustrd lines joined
    assert (first.debtor_name, first.debtor_iban) == ("Joerg Mueller", "DE02120300000000202051")
    assert (first.credit_debit, first.reversal, first.status) == ("CRDT", False, "BOOK")
    assert (first.booking_date, first.value_date) == (date(2024, 3, 4), date(2024, 3, 4))
    assert first.return_reason is None


def test_a_credit_transfer_without_end_to_end_id_reads_as_none():
    transfer = parse_bank_statement(sample("camt053_001_02.xml")).entries[2]

    assert transfer.entry_reference == "NTRY-2"
    assert transfer.end_to_end_id is None  # NOTPROVIDED
    assert transfer.amount == Decimal("50.00")  # the entry's amount: its only TxDtls has none
    assert transfer.remittance == "PZ order 1003 instalment 2"


def test_a_returned_debit_carries_its_reason_code():
    returned = parse_bank_statement(sample("camt053_001_02.xml")).entries[3]

    assert (returned.end_to_end_id, returned.credit_debit) == ("PZ-1004-2", "DBIT")
    assert returned.amount == Decimal("40.00")
    assert returned.return_reason == "AC04"


def test_it_reads_a_2019_notification():
    statement = parse_bank_statement(sample("camt054_001_08.xml"))

    assert (statement.kind, statement.version) == ("camt.054", "001.08")
    assert statement.account_iban == "DE89370400440532013000"  # spaces in the file
    assert statement.statement_id == "NTF-20240305-17-1"
    assert statement.created_at == datetime(2024, 3, 5, 9, 30, 12, tzinfo=UTC)
    credit, refund, pending = statement.entries
    assert (credit.status, credit.end_to_end_id, credit.amount) == ("BOOK", "PZ-2001-2", Decimal("33.34"))
    assert credit.booking_date == date(2024, 3, 5)  # from BookgDt/DtTm
    assert (credit.debtor_name, credit.debtor_iban) == ("Lena Fischer", "NL91ABNA0417164300")  # Dbtr/Pty/Nm
    assert (refund.credit_debit, refund.reversal, refund.return_reason) == ("DBIT", True, "MD06")
    assert refund.amount == Decimal("60.00")
    assert (pending.status, pending.booking_date, pending.entry_reference) == ("PDNG", None, "PEND-9")


def test_a_camt053_in_the_2019_version_reads_the_same():
    data = edited("camt053_001_02.xml", "camt.053.001.02", "camt.053.001.08")
    data = data.replace(b"<Sts>BOOK</Sts>", b"<Sts><Cd>BOOK</Cd></Sts>")

    statement = parse_bank_statement(data)

    assert statement.version == "001.08"
    assert [e.status for e in statement.entries] == ["BOOK"] * 4
    assert statement.entries == parse_bank_statement(sample("camt053_001_02.xml")).entries


def test_each_transaction_of_a_batch_needs_its_amount():
    data = edited("camt053_001_02.xml", '<TxAmt><Amt Ccy="EUR">100.00</Amt></TxAmt>', "")

    with pytest.raises(BankStatementError) as excinfo:
        parse_bank_statement(data)

    assert str(excinfo.value) == (
        "Transaction 2 of entry 1 (reference NTRY-1) has no amount (a batch entry needs one per transaction)."
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("not_xml.txt", "The file is not well-formed XML: syntax error: line 1, column 0"),
        (
            "camt052_report.xml",
            "This is not a camt.053 or camt.054 file: its root is Document in the namespace urn:iso:std:iso:20022:tech:xsd:camt.052.001.02.",
        ),
        ("camt053_missing_amount.xml", "Entry 2 (reference NO-AMOUNT) has no amount (Amt)."),
        (
            "camt053_bad_amount.xml",
            "In entry 2 (reference BAD-AMOUNT) the amount '12,50' is not a number like 1234.56.",
        ),
        (
            "camt053_bad_currency.xml",
            "In entry 2 (reference BAD-CURRENCY) the currency 'euro' is not a three-letter ISO 4217 code.",
        ),
        ("entity_expansion.xml", "The file declares a DOCTYPE or entities; bank statements never do."),
    ],
)
def test_it_refuses_a_malformed_file_with_a_clear_message(name, expected):
    with pytest.raises(BankStatementError) as excinfo:
        parse_bank_statement(sample(name))

    assert str(excinfo.value) == expected


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "<CdtDbtInd>DBIT</CdtDbtInd>",
            "<CdtDbtInd>DEBIT</CdtDbtInd>",
            "In entry 3 (reference NTRY-3) the credit/debit indicator 'DEBIT' is neither CRDT nor DBIT.",
        ),
        (
            "<Sts>BOOK</Sts>",
            "<Sts>DONE</Sts>",
            "In entry 1 (reference NTRY-1) the status DONE is not BOOK, PDNG or INFO.",
        ),
        (
            "<BookgDt><Dt>2024-03-04</Dt></BookgDt>",
            "<BookgDt><Dt>2024-02-30</Dt></BookgDt>",
            "In entry 1 (reference NTRY-1) the booking date 2024-02-30 is not a date.",
        ),
        (
            "<BookgDt><Dt>2024-03-04</Dt></BookgDt>",
            "",
            "In entry 1 (reference NTRY-1) a booked entry has no booking date.",
        ),
        (
            '<Amt Ccy="EUR">50.00</Amt>',
            '<Amt Ccy="EUR">-50.00</Amt>',
            "In entry 2 (reference NTRY-2) the amount '-50.00' is not a number like 1234.56.",
        ),
        (
            '<Amt Ccy="EUR">50.00</Amt>',
            '<Amt Ccy="EUR">NaN</Amt>',
            "In entry 2 (reference NTRY-2) the amount 'NaN' is not a number like 1234.56.",
        ),
        (
            '<Amt Ccy="EUR">50.00</Amt>',
            "<Amt>50.00</Amt>",
            "In entry 2 (reference NTRY-2) the currency '' is not a three-letter ISO 4217 code.",
        ),
        (
            '<TxAmt><Amt Ccy="EUR">100.00</Amt>',
            '<TxAmt><Amt Ccy="EUR">1OO.00</Amt>',
            "In transaction 2 of entry 1 (reference NTRY-1) the amount '1OO.00' is not a number like 1234.56.",
        ),
        ("<IBAN>DE89370400440532013000</IBAN>", "", "The statement does not name the account's IBAN (Acct/Id/IBAN)."),
        ("<Id>2024-03-04-DE89370400440532013000</Id>", "", "The statement has no id (Id)."),
        (
            "camt.053.001.02",
            "camt.053.001.09",
            "This is not a camt.053 or camt.054 file: its root is Document in the namespace urn:iso:std:iso:20022:tech:xsd:camt.053.001.09.",
        ),
        (
            "camt.053.001.02",
            "camt.054.001.02",
            "The namespace says camt.054 but the document holds a camt.053 message.",
        ),
        (
            "<CreDtTm>2024-03-04T06:15:00+01:00</CreDtTm>\n      <Acct>",
            "<CreDtTm>4 March</CreDtTm>\n      <Acct>",
            "The statement's creation time (CreDtTm) 4 March is not a date and time.",
        ),
    ],
)
def test_it_refuses_a_broken_statement_and_names_the_entry(old, new, expected):
    with pytest.raises(BankStatementError) as excinfo:
        parse_bank_statement(edited("camt053_001_02.xml", old, new))

    assert str(excinfo.value) == expected


def test_it_refuses_a_reversal_indicator_that_is_not_a_boolean():
    data = edited("camt054_001_08.xml", "<RvslInd>true</RvslInd>", "<RvslInd>yes</RvslInd>")

    with pytest.raises(BankStatementError, match=r"In entry 2 \(reference N-502\) the reversal indicator yes"):
        parse_bank_statement(data)


def test_it_refuses_a_file_with_two_statements():
    text = sample("camt053_001_02.xml").decode()
    start, end = text.index("<Stmt>"), text.index("</Stmt>") + len("</Stmt>")
    data = (text[:end] + text[start:end] + text[end:]).encode()

    with pytest.raises(BankStatementError) as excinfo:
        parse_bank_statement(data)

    assert str(excinfo.value) == "The file holds 2 statements; import files with exactly one."


def test_it_refuses_a_direct_debit_file_given_as_a_statement():
    data = b'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"><CstmrDrctDbtInitn/></Document>'

    with pytest.raises(
        BankStatementError,
        match=r"This is not a camt\.053 or camt\.054 file: its root is Document in the namespace urn:iso:std:iso:20022:tech:xsd:pain\.008\.001\.02\.",
    ):
        parse_bank_statement(data)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "The file is empty."),
        ("<Document/>", "A bank statement is read from the file's bytes."),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"/>',
            "The document holds nothing, not a statement (BkToCstmrStmt) or notification (BkToCstmrDbtCdtNtfctn).",
        ),
        (
            b"<?xml version='1.0'?><!DOCTYPE d SYSTEM 'file:///etc/passwd'><d/>",
            "The file declares a DOCTYPE or entities; bank statements never do.",
        ),
    ],
)
def test_it_refuses_input_that_is_no_statement_at_all(data, expected):
    with pytest.raises(BankStatementError) as excinfo:
        parse_bank_statement(data)

    assert str(excinfo.value) == expected
