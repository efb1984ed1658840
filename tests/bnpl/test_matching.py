"""Matching statement lines to the collections we expect, and the round trip through both files."""

import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

from bnpl.collections.camt import StatementEntry, parse_bank_statement
from bnpl.collections.matching import (
    CREDIT_REVERSAL,
    CURRENCY_MISMATCH,
    EXCEEDS_OUTSTANDING,
    NO_END_TO_END_ID,
    UNKNOWN_END_TO_END_ID,
    match_entries,
    return_reason_label,
)
from bnpl.collections.sepa import Collection, Creditor, direct_debit_file

FILES = Path(__file__).parent / "files"
LINE = StatementEntry(
    entry_number=1,
    entry_reference="NTRY-1",
    booking_date=date(2024, 3, 4),
    value_date=date(2024, 3, 4),
    amount=Decimal("25.10"),
    currency="EUR",
    credit_debit="CRDT",
    reversal=False,
    status="BOOK",
    end_to_end_id="PZ-1001-1",
    mandate_id="MANDATE-1001",
    remittance="",
    debtor_name="Joerg Mueller",
    debtor_iban="DE02120300000000202051",
    return_reason=None,
)
EXPECTED = {"PZ-1001-1": (Decimal("25.10"), "EUR"), "PZ-1002-3": (Decimal("100.00"), "EUR")}


def line(**changes) -> StatementEntry:
    return replace(LINE, **changes)


def test_a_credit_of_the_full_amount_pays_the_collection():
    result = match_entries([line()], EXPECTED)

    (payment,) = result.paid
    assert (payment.end_to_end_id, payment.amount, payment.currency, payment.outstanding) == (
        "PZ-1001-1",
        Decimal("25.10"),
        "EUR",
        Decimal("0.00"),
    )
    assert result.partly_paid == result.returned == result.unmatched == result.pending == []


def test_a_smaller_credit_pays_part_and_says_what_remains():
    result = match_entries([line(end_to_end_id="PZ-1002-3", amount=Decimal("60.00"))], EXPECTED)

    (payment,) = result.partly_paid
    assert (payment.amount, payment.outstanding) == (Decimal("60.00"), Decimal("40.00"))
    assert result.paid == []


def test_two_part_payments_that_add_up_pay_the_collection():
    first = line(end_to_end_id="PZ-1002-3", amount=Decimal("60.00"))
    second = line(end_to_end_id="PZ-1002-3", amount=Decimal("40.00"), entry_number=2)

    result = match_entries([first, second], EXPECTED)

    assert [p.entry for p in result.partly_paid] == [first]
    assert [p.entry for p in result.paid] == [second]
    assert EXPECTED["PZ-1002-3"] == (Decimal("100.00"), "EUR")  # the caller's dict is left alone


def test_a_debit_with_a_known_id_is_a_return_with_its_reason():
    result = match_entries([line(credit_debit="DBIT", return_reason="AC04")], EXPECTED)

    (returned,) = result.returned
    assert (returned.end_to_end_id, returned.amount, returned.reason_code) == ("PZ-1001-1", Decimal("25.10"), "AC04")
    assert return_reason_label(returned.reason_code) == "AC04: Account closed"
    assert result.paid == result.unmatched == []


def test_a_reversal_debit_without_reason_is_still_a_return():
    result = match_entries([line(credit_debit="DBIT", reversal=True)], EXPECTED)

    (returned,) = result.returned
    assert returned.reason_code is None
    assert return_reason_label(None) == "No reason given"


def test_a_payment_then_its_return_leaves_the_collection_open_for_the_next_credit():
    paid = line()
    returned = line(credit_debit="DBIT", return_reason="MD06", entry_number=2)
    paid_again = line(entry_number=3)

    result = match_entries([paid, returned, paid_again], EXPECTED)

    assert [p.entry for p in result.paid] == [paid, paid_again]
    assert [r.entry for r in result.returned] == [returned]


def test_what_cannot_be_placed_goes_to_the_reconciliation_queue_with_its_reason():
    entries = [
        line(end_to_end_id=None),
        line(end_to_end_id="SOMEONE-ELSE"),
        line(currency="CHF"),
        line(amount=Decimal("25.11")),
        line(reversal=True),
        line(credit_debit="DBIT", end_to_end_id="PZ-UNKNOWN", return_reason="AM04"),
    ]

    result = match_entries(entries, EXPECTED)

    assert [(u.entry, u.reason) for u in result.unmatched] == [
        (entries[0], NO_END_TO_END_ID),
        (entries[1], UNKNOWN_END_TO_END_ID),
        (entries[2], CURRENCY_MISMATCH),
        (entries[3], EXCEEDS_OUTSTANDING),
        (entries[4], CREDIT_REVERSAL),
        (entries[5], UNKNOWN_END_TO_END_ID),
    ]
    assert result.unmatched[3].reason_label == "The amount is more than is still outstanding."
    assert result.paid == result.partly_paid == result.returned == []


def test_a_second_full_credit_for_a_paid_collection_is_not_counted_twice():
    result = match_entries([line(), line(entry_number=2)], EXPECTED)

    assert len(result.paid) == 1
    assert [u.reason for u in result.unmatched] == [EXCEEDS_OUTSTANDING]


def test_lines_not_yet_booked_are_left_pending():
    pending = line(status="PDNG", booking_date=None)
    info = line(status="INFO", end_to_end_id=None)

    result = match_entries([pending, info], EXPECTED)

    assert result.pending == [pending, info]
    assert result.paid == result.unmatched == []


def test_the_sample_statement_sorts_into_paid_unmatched_and_returned():
    statement = parse_bank_statement((FILES / "camt053_001_02.xml").read_bytes())
    expected = {**EXPECTED, "PZ-1004-2": (Decimal("40.00"), "EUR")}

    result = match_entries(statement.entries, expected)

    assert [p.end_to_end_id for p in result.paid] == ["PZ-1001-1", "PZ-1002-3"]
    assert [(u.entry.entry_reference, u.reason) for u in result.unmatched] == [("NTRY-2", NO_END_TO_END_ID)]
    assert [(r.end_to_end_id, r.reason_code) for r in result.returned] == [("PZ-1004-2", "AC04")]


def test_the_sample_notification_pays_one_returns_one_and_waits_for_one():
    statement = parse_bank_statement((FILES / "camt054_001_08.xml").read_bytes())
    expected = {
        "PZ-2001-2": (Decimal("33.34"), "EUR"),
        "PZ-2002-1": (Decimal("60.00"), "EUR"),
        "PZ-2003-1": (Decimal("12.50"), "EUR"),
    }

    result = match_entries(statement.entries, expected)

    assert [p.end_to_end_id for p in result.paid] == ["PZ-2001-2"]
    assert [(r.end_to_end_id, r.reason_code) for r in result.returned] == [("PZ-2002-1", "MD06")]
    assert [e.end_to_end_id for e in result.pending] == ["PZ-2003-1"]
    assert return_reason_label("MD06") == "MD06: Refund requested by the debtor"
    assert return_reason_label("ZZ99") == "ZZ99"


def statement_crediting(debits: list[tuple[str, str]]) -> bytes:
    """A camt.053.001.02 as a bank would send it: one batch entry crediting each (end-to-end id, amount)."""
    total = sum(Decimal(amount) for _id, amount in debits)
    details = "".join(
        f"<TxDtls><Refs><EndToEndId>{end_to_end_id}</EndToEndId></Refs>"
        f'<AmtDtls><TxAmt><Amt Ccy="EUR">{amount}</Amt></TxAmt></AmtDtls></TxDtls>'
        for end_to_end_id, amount in debits
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>'
        "<GrpHdr><MsgId>RT-1</MsgId><CreDtTm>2024-03-05T06:00:00</CreDtTm></GrpHdr>"
        "<Stmt><Id>RT-1-1</Id><CreDtTm>2024-03-05T06:00:00</CreDtTm>"
        "<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id></Acct>"
        f'<Ntry><NtryRef>BATCH-1</NtryRef><Amt Ccy="EUR">{total}</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
        "<Sts>BOOK</Sts><BookgDt><Dt>2024-03-04</Dt></BookgDt><ValDt><Dt>2024-03-04</Dt></ValDt>"
        f"<NtryDtls>{details}</NtryDtls></Ntry></Stmt></BkToCstmrStmt></Document>"
    ).encode()


def test_round_trip_the_debits_of_a_direct_debit_file_credited_on_a_statement_are_paid():
    creditor = Creditor("Partnerzone BNPL GmbH", "DE89370400440532013000", "COBADEFFXXX", "DE98ZZZ09999999999")
    collections = [
        Collection(
            end_to_end_id=f"PZ-{n}-1",
            debtor_name=f"Debtor {n}",
            debtor_iban=iban,
            debtor_bic=None,
            mandate_id=f"MANDATE-{n}",
            mandate_date=date(2024, 1, 15),
            amount=amount,
            currency="EUR",
            remittance=f"Order {n}",
            sequence="RCUR",
        )
        for n, (iban, amount) in enumerate(
            [
                ("DE02120300000000202051", Decimal("25.10")),
                ("NL91ABNA0417164300", Decimal("33.33")),
                ("AT611904300234573201", Decimal("0.01")),
            ],
            start=1,
        )
    ]
    pain = direct_debit_file(
        creditor=creditor, collections=collections, collection_date=date(2024, 3, 4), message_id="RT-2024-03-04"
    )

    # What the file asks the bank to collect, read from the file itself.
    namespace = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"}
    document = ET.fromstring(pain)  # noqa: S314 - our own output
    debits = [
        (tx.findtext("p:PmtId/p:EndToEndId", namespaces=namespace), tx.find("p:InstdAmt", namespace))
        for tx in document.iterfind(".//p:DrctDbtTxInf", namespace)
    ]
    expected = {e2e: (Decimal(amount.text), amount.get("Ccy")) for e2e, amount in debits}
    assert expected == {c.end_to_end_id: (c.amount, "EUR") for c in collections}

    statement = parse_bank_statement(statement_crediting([(e2e, amount.text) for e2e, amount in debits]))
    result = match_entries(statement.entries, expected)

    assert sorted(p.end_to_end_id for p in result.paid) == ["PZ-1-1", "PZ-2-1", "PZ-3-1"]
    assert sum(p.amount for p in result.paid) == Decimal(
        document.findtext("p:CstmrDrctDbtInitn/p:GrpHdr/p:CtrlSum", namespaces=namespace)
    )
    assert result.partly_paid == result.returned == result.unmatched == []
