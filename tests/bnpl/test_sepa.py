"""The pain.008 direct debit file: what it says, that it matches the XSD, and what it refuses."""

import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import sepaxml
import xmlschema
from django.core.exceptions import ValidationError

from bnpl.collections.sepa import (
    SCHEMAS,
    Collection,
    Creditor,
    amount_in_cents,
    creditor_id_is_valid,
    direct_debit_file,
    is_sepa_reference,
)

COLLECTION_DAY = date(2024, 3, 4)
CREDITOR = Creditor(
    name="Partnerzone BNPL GmbH",
    iban="DE89 3704 0044 0532 0130 00",
    bic="COBADEFFXXX",
    creditor_id="DE98ZZZ09999999999",  # the Bundesbank's test creditor identifier
)
FIRST = Collection(
    end_to_end_id="PZ-1001-1",
    debtor_name="Jörg Müller",
    debtor_iban="DE02 1203 0000 0000 2020 51",
    debtor_bic=None,
    mandate_id="MANDATE-1001",
    mandate_date=date(2024, 2, 1),
    amount=Decimal("25.10"),
    currency="EUR",
    remittance="Order 1001 instalment 1 of 4",
    sequence="FRST",
)
LATER = Collection(
    end_to_end_id="PZ-1002-3",
    debtor_name="Anna Schmidt",
    debtor_iban="FR1420041010050500013M02606",
    debtor_bic="BNPAFRPPXXX",
    mandate_id="MANDATE-1002",
    mandate_date=date(2023, 11, 20),
    amount=Decimal("100"),
    currency="EUR",
    remittance="Order 1002 instalment 3 of 6",
    sequence="RCUR",
)


def build(collections=(FIRST, LATER), creditor=CREDITOR, **kwargs):
    kwargs.setdefault("collection_date", COLLECTION_DAY)
    kwargs.setdefault("message_id", "PZ-2024-03-04-1")
    return direct_debit_file(creditor=creditor, collections=list(collections), **kwargs)


def read(xml: bytes) -> ET.Element:
    root = ET.fromstring(xml)  # noqa: S314 - our own output
    for element in root.iter():
        element.tag = element.tag.split("}", 1)[-1]
    return root


def messages(excinfo) -> list[str]:
    return excinfo.value.messages


def test_it_writes_the_group_totals_and_one_batch_per_sequence_type():
    doc = read(build())

    header = doc.find("CstmrDrctDbtInitn/GrpHdr")
    assert header.findtext("MsgId") == "PZ-2024-03-04-1"
    assert header.findtext("NbOfTxs") == "2"
    assert header.findtext("CtrlSum") == "125.10"
    batches = doc.findall("CstmrDrctDbtInitn/PmtInf")
    assert [b.findtext("PmtTpInf/SeqTp") for b in batches] == ["FRST", "RCUR"]
    assert [b.findtext("CtrlSum") for b in batches] == ["25.10", "100.00"]
    for batch in batches:
        assert batch.findtext("ReqdColltnDt") == "2024-03-04"
        assert batch.findtext("PmtTpInf/LclInstrm/Cd") == "CORE"
        assert batch.findtext("CdtrAcct/Id/IBAN") == "DE89370400440532013000"
        assert batch.findtext("CdtrSchmeId/Id/PrvtId/Othr/Id") == "DE98ZZZ09999999999"


def test_each_debit_carries_its_reference_amount_mandate_and_account():
    doc = read(build())

    debits = {d.findtext("PmtId/EndToEndId"): d for d in doc.iter("DrctDbtTxInf")}
    assert set(debits) == {"PZ-1001-1", "PZ-1002-3"}
    first, later = debits["PZ-1001-1"], debits["PZ-1002-3"]
    assert first.findtext("InstdAmt") == "25.10"
    assert first.find("InstdAmt").get("Ccy") == "EUR"
    assert first.findtext("DrctDbtTx/MndtRltdInf/MndtId") == "MANDATE-1001"
    assert first.findtext("DrctDbtTx/MndtRltdInf/DtOfSgntr") == "2024-02-01"
    assert first.findtext("DbtrAcct/Id/IBAN") == "DE02120300000000202051"
    assert first.findtext("DbtrAgt/FinInstnId/Othr/Id") == "NOTPROVIDED"  # no BIC given
    assert first.findtext("Dbtr/Nm") == "Jorg Muller"  # transliterated for the bank
    assert first.findtext("RmtInf/Ustrd") == "Order 1001 instalment 1 of 4"
    assert later.findtext("InstdAmt") == "100.00"
    assert later.findtext("DbtrAgt/FinInstnId/BIC") == "BNPAFRPPXXX"
    assert later.findtext("DbtrAcct/Id/IBAN") == "FR1420041010050500013M02606"


@pytest.mark.parametrize("schema", SCHEMAS)
def test_the_file_matches_the_message_schema(schema):
    xsd = Path(sepaxml.__file__).parent / "schemas" / f"{schema}.xsd"

    xml = build(schema=schema)

    xmlschema.XMLSchema(str(xsd)).validate(xml.decode())
    assert ET.fromstring(xml).tag == f"{{urn:iso:std:iso:20022:tech:xsd:{schema}}}Document"  # noqa: S314


def test_names_and_texts_are_written_in_latin_letters():
    doc = read(build([replace(LATER, debtor_name="Иван Петров", remittance="Bestellung für Grüße")]))

    debit = doc.find(".//DrctDbtTxInf")
    assert debit.findtext("Dbtr/Nm") == "Ivan Petrov"
    assert debit.findtext("RmtInf/Ustrd") == "Bestellung fur Grusse"


def test_the_2019_version_takes_a_creditor_without_bic():
    doc = read(build(creditor=replace(CREDITOR, bic=None), schema="pain.008.001.08"))

    assert doc.findtext("CstmrDrctDbtInitn/PmtInf/CdtrAgt/FinInstnId/Othr/Id") == "NOTPROVIDED"
    assert doc.findtext(".//DrctDbtTxInf/DbtrAgt/FinInstnId/BICFI") == "BNPAFRPPXXX"


def test_amounts_are_converted_to_cents_exactly():
    tenths = [replace(FIRST, end_to_end_id=f"PZ-T-{n}", amount=Decimal("0.10"), sequence="RCUR") for n in range(10)]
    large = replace(LATER, amount=Decimal("999999999.99"))

    doc = read(build([*tenths, large]))

    assert doc.findtext("CstmrDrctDbtInitn/GrpHdr/CtrlSum") == "1000000000.99"  # 10 × 0.10 is exactly 1.00
    assert amount_in_cents(Decimal("0.01")) == 1
    assert amount_in_cents(Decimal("1.1")) == 110
    assert amount_in_cents(Decimal("1.230")) == 123
    assert amount_in_cents(Decimal("999999999.99")) == 99999999999


@pytest.mark.parametrize(
    "creditor_id",
    [
        "DE98ZZZ09999999999",  # Deutsche Bundesbank's test identifier
        "DE98ABC09999999999",  # the business code is not part of the check
        "de98 zzz 0999 9999 999",
        "AT61ZZZ01234567890",
        "FR72ZZZ123456",
        "ES59ZZZX1234567L",
        "BE69ZZZ050D000000008",
        "IT66ZZZA1B2C3D4E5F6G7H8",
    ],
)
def test_it_accepts_creditor_ids_whose_check_digits_match(creditor_id):
    assert creditor_id_is_valid(creditor_id)


@pytest.mark.parametrize(
    "creditor_id",
    [
        "DE99ZZZ09999999999",  # check digits off by one
        "DE98ZZZ09999999998",  # national id mistyped
        "DE26ZZZ00000000000",  # sepaxml's README example: its check digits do not match
        "DE98ZZ",
        "9898ZZZ09999999999",
        "DE98ZZZ0999999999-9",
        "",
    ],
)
def test_it_refuses_creditor_ids_whose_check_digits_do_not_match(creditor_id):
    assert not creditor_id_is_valid(creditor_id)


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("PZ-1001-1", True),
        ("A" * 35, True),
        ("Order 12/3 (part) +1", True),
        ("A" * 36, False),
        ("", False),
        ("PZ_1001", False),
        ("PZ#1", False),
        ("/PZ1", False),
        ("PZ1/", False),
        ("PZ//1", False),
        ("Zahlung für", False),
    ],
)
def test_references_use_the_sepa_character_set(value, ok):
    assert is_sepa_reference(value) is ok


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"debtor_iban": "DE02120300000000202052"},
            "the debtor's IBAN DE02120300000000202052 is not valid: its check digits do not match",
        ),
        (
            {"debtor_iban": "DE0212030000000020205"},
            "the debtor's IBAN DE0212030000000020205 is not valid: it has the wrong length for its country",
        ),
        ({"debtor_iban": "XX02120300000000202051"}, "is not valid: the country code is unknown"),
        ({"debtor_iban": "BR1800360305000010009795493C1"}, "is not valid: BR is not in the SEPA zone"),
        ({"debtor_iban": ""}, "the debtor's IBAN  is not valid: it is missing"),
        ({"debtor_bic": "BNPAFRP"}, "the debtor's BIC BNPAFRP is not valid: a BIC has 8 or 11 characters"),
        ({"debtor_bic": "BNPAQQPPXXX"}, "the debtor's BIC BNPAQQPPXXX is not valid: the country code is unknown"),
        ({"amount": Decimal("0")}, "the amount must be more than 0"),
        ({"amount": Decimal("-5.00")}, "the amount must be more than 0"),
        ({"amount": Decimal("NaN")}, "the amount must be more than 0"),
        ({"amount": Decimal("10.005")}, "the amount 10.005 has more than two decimals"),
        ({"amount": Decimal("1000000000.00")}, "the amount must be at most 999,999,999.99"),
        ({"amount": 10.5}, "the amount must be a Decimal, not float"),
        ({"currency": "USD"}, "the currency is USD; SEPA direct debits are in EUR only"),
        ({"end_to_end_id": "PZ_1002_3"}, "the end-to-end id must be 1 to 35"),
        ({"end_to_end_id": "P" * 36}, "the end-to-end id must be 1 to 35"),
        ({"mandate_id": ""}, "the mandate id must be 1 to 35"),
        ({"mandate_date": date(2024, 3, 5)}, "the mandate is signed after the collection date"),
        ({"sequence": "OOFF"}, "the sequence type must be FRST"),
        ({"remittance": "x" * 141}, "the remittance text must be at most 140 characters"),
        ({"remittance": "ß" * 71}, "the remittance text must be at most 140 characters"),  # "ss" each
        ({"remittance": ""}, "the remittance text is missing"),
        ({"debtor_name": " "}, "the debtor's name is missing"),
        ({"debtor_name": "😀"}, "the debtor's name is missing (or has nothing that can be written in Latin letters)"),
    ],
)
def test_it_refuses_a_bad_collection_and_names_it(change, expected):
    bad = replace(LATER, **change)

    with pytest.raises(ValidationError) as excinfo:
        build([FIRST, bad])

    (message,) = messages(excinfo)
    end_to_end_id = change.get("end_to_end_id", "PZ-1002-3")
    assert message.startswith(f"Collection 2 ({end_to_end_id}): ")
    assert expected in message


def test_it_lists_every_problem_of_every_collection_and_writes_nothing():
    bad_first = replace(FIRST, debtor_iban="DE00120300000000202051", currency="CHF")
    bad_third = replace(LATER, end_to_end_id="PZ-1003-1", amount=Decimal("-1"))

    with pytest.raises(ValidationError) as excinfo:
        build([bad_first, LATER, bad_third], message_id="//bad")

    found = messages(excinfo)
    assert found[0].startswith("The message id '//bad' is not a SEPA reference")
    assert [m.split(":")[0] for m in found[1:]] == [
        "Collection 1 (PZ-1001-1)",
        "Collection 1 (PZ-1001-1)",
        "Collection 3 (PZ-1003-1)",
    ]


def test_it_refuses_a_second_use_of_an_end_to_end_id():
    with pytest.raises(ValidationError) as excinfo:
        build([FIRST, LATER, replace(LATER, mandate_id="MANDATE-9")])

    assert messages(excinfo) == ["Collection 3 (PZ-1002-3): the end-to-end id is already used by collection 2."]


@pytest.mark.parametrize(
    ("creditor", "expected"),
    [
        (replace(CREDITOR, iban="DE89370400440532013001"), "The creditor's IBAN DE89370400440532013001 is not valid"),
        (replace(CREDITOR, bic="COBAXX"), "The creditor's BIC COBAXX is not valid"),
        (replace(CREDITOR, bic=None), "The creditor's BIC is required in a pain.008.001.02 file."),
        (
            replace(CREDITOR, creditor_id="DE99ZZZ09999999999"),
            "The creditor identifier DE99ZZZ09999999999 is not valid",
        ),
        (replace(CREDITOR, name=""), "The creditor's name is missing."),
    ],
)
def test_it_refuses_a_bad_creditor(creditor, expected):
    with pytest.raises(ValidationError) as excinfo:
        build(creditor=creditor)

    (message,) = messages(excinfo)
    assert message.startswith(expected)


def test_it_refuses_an_empty_list_and_a_collection_date_that_is_no_date():
    with pytest.raises(ValidationError) as excinfo:
        build([], collection_date="2024-03-04")

    assert messages(excinfo) == [
        "There is nothing to collect: the list of collections is empty.",
        "The collection date must be a date.",
    ]


def test_a_file_that_fails_its_schema_is_refused_too(monkeypatch):
    """The XSD check after building is the safety net under the field checks: switch those off."""
    monkeypatch.setattr("bnpl.collections.sepa._collection_errors", lambda *args, **kwargs: [])

    with pytest.raises(ValidationError) as excinfo:
        build([replace(LATER, remittance="")])

    (message,) = messages(excinfo)
    assert message.startswith(
        "The direct debit file does not match the pain.008.001.02 schema at "
        "/Document/CstmrDrctDbtInitn/PmtInf/DrctDbtTxInf/RmtInf/Ustrd: "
    )
