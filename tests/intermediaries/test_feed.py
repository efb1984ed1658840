"""The core system feed: parsing, validation, idempotent import, the command and the demo feed."""

import csv
import io
import sys
import textwrap
import types
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from clients.models import Client
from intermediaries import demo_feed, feed
from intermediaries.demo_feed import (
    demo_feed_load,
    demo_feed_write,
    intermediaries_ensure_for_demo_cast,
    large_intermediaries_ensure,
)
from intermediaries.feed import FeedError, FeedImportBusy, Status, core_feed_import, isin_valid
from intermediaries.models import FxRate, Instrument, Intermediary, Portfolio, Price, Transaction
from portal.audit.models import AuditEvent
from tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

DAY1, DAY2 = date(2026, 11, 2), date(2026, 11, 3)
UNTIL = date(2026, 11, 20)  # a Friday: the demo feed's last day, fixed so the tests are repeatable

# A feed small enough to read: two instruments, two clients of two brokers, one booking day each.
BASE = {
    "instruments": """
        isin,name,asset_class,currency
        DE0007164600,SAP SE,equity,EUR
        US0378331005,Apple Inc.,equity,USD
    """,
    "prices": """
        isin,date,close
        DE0007164600,2026-11-02,120.50
        DE0007164600,2026-11-03,121.00
        US0378331005,2026-11-02,190.10
    """,
    "fx_rates": """
        currency,date,rate
        USD,2026-11-02,1.0850
        USD,2026-11-03,1.0870
    """,
    "clients": """
        client_number,first_name,last_name,email,phone,street,postcode,city,country,birth_date,status,intermediary_number
        C0001,Clara,Schmidt,clara@example.com,+4915100000011,Lindenstraße 12,10115,Berlin,DE,1975-10-27,active,B0001
        C0003,Katya,Ivanova,,,,,,,,active,B0003
    """,
    "portfolios": """
        portfolio_number,client_number,name,currency,opened_on,status
        P1,C0001,Depot,EUR,2026-11-02,open
        P3,C0003,Depot,EUR,2026-11-02,open
    """,
    "transactions": """
        transaction_id,portfolio_number,type,trade_date,isin,quantity,price,amount,currency
        T1,P1,deposit,2026-11-02,,,,10000.00,EUR
        T2,P1,buy,2026-11-02,DE0007164600,10,120.50,1205.00,EUR
        T3,P1,fee,2026-11-02,,,,4.90,EUR
        T4,P3,deposit,2026-11-03,,,,500.00,EUR
    """,
}
BASE_ROWS = {name: len(textwrap.dedent(text).strip().splitlines()) - 1 for name, text in BASE.items()}


def feed_write(directory: Path, **overrides: str | None) -> Path:
    """Write BASE into `directory`, with some files replaced (text) or left out (None)."""
    for name, text in {**BASE, **overrides}.items():
        path = directory / f"{name}.csv"
        path.unlink(missing_ok=True)
        if text is not None:
            path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return directory


def with_row(name: str, row: str, *, at_line: int = 3) -> str:
    """BASE[name] with `row` inserted so that it becomes line `at_line` of the file."""
    lines = textwrap.dedent(BASE[name]).strip().splitlines()
    lines.insert(at_line - 1, row)
    return "\n".join(lines) + "\n"


def replaced(name: str, old: str, new: str) -> str:
    text = textwrap.dedent(BASE[name])
    assert old in text
    return text.replace(old, new)


def snapshot() -> dict:
    """Every imported value, to compare before and after a run."""
    return {
        model.__name__: list(model.objects.order_by("pk").values_list())
        for model in (Instrument, Price, FxRate, Client, Portfolio, Transaction)
    }


@pytest.fixture
def brokers(cast):
    intermediaries_ensure_for_demo_cast()
    return cast


@pytest.fixture
def fake_services(monkeypatch):
    """Stands in for intermediaries.services so the command's hand-over can be observed."""
    calls = []
    module = types.ModuleType("intermediaries.services")
    module.valuations_after_import = calls.append
    monkeypatch.setitem(sys.modules, "intermediaries.services", module)
    return calls


# --- Values --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("isin", "valid"),
    [
        ("DE0007164600", True),
        ("US0378331005", True),
        ("IE00B4L5Y983", True),
        ("CH0012032048", True),
        ("DE0007164601", False),  # check digit
        ("de0007164600", False),  # lower case
        ("DE000716460", False),  # too short
        ("0E0007164600", False),  # country must be letters
    ],
)
def test_it_checks_isins_with_the_luhn_digit(isin, valid):
    assert isin_valid(isin) is valid


# --- A whole feed -----------------------------------------------------------------------------------


def test_it_imports_every_file_of_a_feed(brokers, tmp_path):
    report = core_feed_import(directory=feed_write(tmp_path))

    assert [(r.file, r.status, r.created, r.updated, r.unchanged, r.errors) for r in report.files] == [
        (f"{name}.csv", Status.IMPORTED, BASE_ROWS[name], 0, 0, []) for name in BASE
    ]
    clara = Client.objects.get(number="C0001")
    assert (clara.name, clara.advisor, clara.city, clara.birth_date) == (
        "Clara Schmidt",
        brokers.broker1,
        "Berlin",
        date(1975, 10, 27),
    )
    assert Client.objects.get(number="C0003").advisor == brokers.broker3
    buy = Transaction.objects.get(external_id="T2")
    assert (buy.instrument.isin, buy.quantity, buy.price, buy.amount) == (
        "DE0007164600",
        Decimal("10"),
        Decimal("120.5"),
        Decimal("1205"),
    )
    p1, p3 = Portfolio.objects.get(number="P1"), Portfolio.objects.get(number="P3")
    assert report.affected_portfolios == {p1.pk: DAY1, p3.pk: DAY2}
    assert (report.prices_changed_from, report.fx_changed_from) == (DAY1, DAY1)
    assert not report.has_errors


def test_importing_the_same_feed_twice_changes_nothing(brokers, tmp_path):
    directory = feed_write(tmp_path)
    core_feed_import(directory=directory)
    before = snapshot()

    report = core_feed_import(directory=directory)

    assert [(r.created, r.updated, r.unchanged) for r in report.files] == [(0, 0, BASE_ROWS[n]) for n in BASE]
    assert snapshot() == before  # Client.updated_at included
    assert (report.affected_portfolios, report.prices_changed, report.fx_changed) == ({}, False, False)


def test_a_corrected_price_updates_that_price_only(brokers, tmp_path):
    core_feed_import(directory=feed_write(tmp_path))

    report = core_feed_import(
        directory=feed_write(tmp_path, prices=replaced("prices", "2026-11-03,121.00", "2026-11-03,121.40"))
    )

    prices = report.file("prices.csv")
    assert (prices.created, prices.updated, prices.unchanged) == (0, 1, 2)
    sap = Instrument.objects.get(isin="DE0007164600")
    assert Price.objects.get(instrument=sap, date=DAY2).close == Decimal("121.40")
    assert report.price_changes == {sap.pk: DAY2}
    assert report.prices_changed_since == DAY2
    assert report.affected_portfolios == {}


def test_a_corrected_client_row_updates_the_client_and_its_timestamp(brokers, tmp_path):
    core_feed_import(directory=feed_write(tmp_path))
    clara_before = Client.objects.get(number="C0001")
    katya_before = Client.objects.get(number="C0003")

    report = core_feed_import(
        directory=feed_write(tmp_path, clients=replaced("clients", "10115,Berlin", "20095,Hamburg"))
    )

    assert (report.file("clients.csv").updated, report.file("clients.csv").unchanged) == (1, 1)
    clara = Client.objects.get(number="C0001")
    assert (clara.postcode, clara.city) == ("20095", "Hamburg")
    assert clara.updated_at > clara_before.updated_at
    assert Client.objects.get(number="C0003").updated_at == katya_before.updated_at
    assert report.affected_portfolios == {}  # an address does not change a valuation


def test_a_client_who_moves_to_another_broker_marks_both_books_and_the_portfolios(brokers, tmp_path):
    core_feed_import(directory=feed_write(tmp_path))

    report = core_feed_import(
        directory=feed_write(tmp_path, clients=replaced("clients", "active,B0001", "active,B0002"))
    )

    assert Client.objects.get(number="C0001").advisor == brokers.broker2
    assert report.affected_advisors == {brokers.broker1.pk, brokers.broker2.pk}
    assert report.affected_portfolios == {Portfolio.objects.get(number="P1").pk: DAY1}


def test_a_corrected_transaction_updates_it_and_marks_its_portfolio_from_the_earlier_day(brokers, tmp_path):
    core_feed_import(directory=feed_write(tmp_path))

    report = core_feed_import(
        directory=feed_write(
            tmp_path,
            transactions=replaced(
                "transactions", "T4,P3,deposit,2026-11-03,,,,500.00", "T4,P3,deposit,2026-11-05,,,,550.00"
            ),
        )
    )

    transactions = report.file("transactions.csv")
    assert (transactions.created, transactions.updated, transactions.unchanged) == (0, 1, 3)
    t4 = Transaction.objects.get(external_id="T4")
    assert (t4.trade_date, t4.amount) == (date(2026, 11, 5), Decimal("550.00"))
    assert report.affected_portfolios == {Portfolio.objects.get(number="P3").pk: DAY2}


# --- Bad rows --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "row", "reason"),
    [
        ("instruments", "DE0007164601,Wrong Digit AG,equity,EUR", "isin 'DE0007164601' has a wrong check digit"),
        ("instruments", "DE0005140008,Deutsche Bank AG,shares,EUR", "asset_class 'shares' is not one of equity, bond"),
        ("instruments", "DE0005140008,Deutsche Bank AG,equity,euro", "currency 'euro' is not an ISO 4217 code"),
        ("prices", "DE0007164600,2026-13-01,120.00", "date '2026-13-01' is not a valid date"),
        ("prices", "DE0007164600,04.11.2026,120.00", "date '04.11.2026' is not a date in the form YYYY-MM-DD"),
        ("prices", "DE0007164600,2026-11-04,NaN", "close 'NaN' is not a decimal number"),
        ("prices", "DE0007164600,2026-11-04,Infinity", "close 'Infinity' is not a decimal number"),
        ("prices", "DE0007164600,2026-11-04,1.1234567", "close 1.1234567 has more than 6 decimal places"),
        ("prices", "DE0007164600,2026-11-04,0", "close must be greater than 0"),
        ("prices", "DE0005140008,2026-11-04,12.00", "unknown ISIN DE0005140008"),
        ("prices", "DE0007164600,2026-11-04", "expected 3 fields as in the header, found 2"),
        ("fx_rates", "EUR,2026-11-04,1", "currency EUR is the base currency"),
        ("fx_rates", "USD,2026-11-04,123456789012.5", "rate 123456789012.5 has more than 10 digits before"),
        ("clients", "C0009,Max,Muster,,,,,,,,active,B0042", "unknown intermediary_number 'B0042'"),
        ("clients", "C0009,Max,Muster,not-an-address,,,,,,,active,B0001", "email 'not-an-address' is not an e-mail"),
        ("clients", "C0009,Max,Muster,,,,,,Germany,,active,B0001", "country 'Germany' is not an ISO 3166 code"),
        ("clients", "C0009,Max,Muster,,,,,,,,asleep,B0001", "status 'asleep' is not one of active, inactive"),
        ("portfolios", "P9,C0404,Depot,EUR,2026-11-02,open", "unknown client_number 'C0404'"),
        ("transactions", "T9,P1,withdrawal,2026-11-03,,,,-50.00,EUR", "amount must not be negative, not -50.00"),
        ("transactions", "T9,P9,deposit,2026-11-03,,,,50.00,EUR", "unknown portfolio_number 'P9'"),
        ("transactions", "T9,P1,buy,2026-11-03,DE0005140008,1,10,10.00,EUR", "unknown ISIN DE0005140008"),
        ("transactions", "T9,P1,buy,2026-11-03,DE0007164600,ten,10,100.00,EUR", "quantity 'ten' is not a decimal"),
        ("transactions", "T9,P1,buy,2026-11-03,DE0007164600,1,1e2,100.00,EUR", "price '1e2' is not a decimal"),
        ("transactions", "T9,P1,sell,2026-11-03,,1,10,10.00,EUR", "a sell needs an isin"),
        ("transactions", "T9,P1,sell,2026-11-03,DE0007164600,0,10,0.00,EUR", "quantity must be greater than 0"),
        ("transactions", "T9,P1,swap,2026-11-03,,,,10.00,EUR", "type 'swap' is not one of buy, sell"),
        ("transactions", "T1,P1,deposit,2026-11-02,,,,10000.00,EUR", "transaction T1 repeats line 2"),
    ],
)
def test_a_bad_row_is_reported_with_file_line_and_reason_and_the_rest_is_imported(brokers, tmp_path, name, row, reason):
    report = core_feed_import(directory=feed_write(tmp_path, **{name: with_row(name, row, at_line=3)}))

    file_report = report.file(f"{name}.csv")
    assert len(file_report.errors) == 1
    error = file_report.errors[0]
    assert (error.file, error.line) == (f"{name}.csv", 3)
    assert error.reason.startswith(reason), error.reason
    assert file_report.created == BASE_ROWS[name]  # the good rows before and after it
    assert report.error_count == 1  # and every other file is untouched by it


def test_it_lists_only_so_many_bad_rows_and_counts_the_rest(brokers, tmp_path, monkeypatch, fake_services):
    monkeypatch.setattr(feed.report, "MAX_ERRORS_KEPT", 1)
    transactions = textwrap.dedent(BASE["transactions"]) + "".join(
        f"B{n},P1,fee,2026-11-03,,,,-1,EUR\n" for n in range(3)
    )
    stderr = io.StringIO()

    with pytest.raises(CommandError, match="3 bad rows in 1 file;"):
        call_command(
            "import_core_feed",
            str(feed_write(tmp_path, transactions=transactions)),
            stdout=io.StringIO(),
            stderr=stderr,
        )

    assert stderr.getvalue().splitlines() == [
        "transactions.csv:6: amount must not be negative, not -1",
        "transactions.csv: … and 2 more bad rows",
    ]


def test_a_key_repeated_further_back_than_one_batch_is_reported_too(brokers, tmp_path, monkeypatch):
    monkeypatch.setattr(feed.importer, "BATCH_SIZE", 2)
    transactions = with_row("transactions", "T2,P1,buy,2026-11-02,DE0007164600,99,120.50,11929.50,EUR", at_line=6)

    report = core_feed_import(directory=feed_write(tmp_path, transactions=transactions))

    assert report.file("transactions.csv").errors == [
        FeedError("transactions.csv", 6, "transaction T2 repeats an earlier line of this file")
    ]
    assert Transaction.objects.get(external_id="T2").quantity == 10  # the first occurrence wins


def test_blank_lines_are_skipped_and_line_numbers_still_count_them(brokers, tmp_path):
    prices = "isin,date,close\n\nDE0007164600,2026-11-02,120.50\n\nDE0007164600,2026-11-03,x\n"

    report = core_feed_import(directory=feed_write(tmp_path, prices=prices))

    assert report.file("prices.csv").errors == [
        FeedError("prices.csv", 5, "close 'x' is not a decimal number (digits and an optional '.')")
    ]
    assert report.file("prices.csv").created == 1


# --- Whole files refused, missing, or unusual ----------------------------------------------------------


@pytest.mark.parametrize(
    ("prices", "line", "reason"),
    [
        (
            "isin,date\nDE0007164600,2026-11-02\n",
            1,
            "the header lacks close; expected the columns isin,date,close",
        ),
        ("DE0007164600,2026-11-02,120.50\n", 1, "the header lacks isin, date, close"),
        ("isin,date,close,date\nDE0007164600,2026-11-02,120.50,x\n", 1, "the header names date more than once"),
        ("", 1, "the file is empty; a header row is required"),
    ],
)
def test_a_file_with_a_broken_header_is_refused_whole(brokers, tmp_path, prices, line, reason):
    report = core_feed_import(directory=feed_write(tmp_path, prices=prices))

    refused = report.file("prices.csv")
    assert refused.status == Status.REFUSED
    assert len(refused.errors) == 1
    assert (refused.errors[0].line, refused.errors[0].reason[: len(reason)]) == (line, reason)
    assert not Price.objects.exists()
    assert report.file("transactions.csv").created == BASE_ROWS["transactions"]


def test_a_file_that_turns_out_not_to_be_utf8_is_rolled_back_whole(brokers, tmp_path, monkeypatch):
    # Small batches, and enough rows that several batches are written before the bad byte is read.
    monkeypatch.setattr(feed.importer, "BATCH_SIZE", 50)
    header = textwrap.dedent(BASE["clients"]).strip().splitlines()[0]
    rows = [f"C{n:05d},Max,Muster,,,,,,,,active,B0001" for n in range(1, 501)]
    data = ("\n".join([header, *rows]) + "\n").encode() + "C09999,Jürgen,Müller,,,,,,,,active,B0001\n".encode("latin-1")
    feed_write(tmp_path)
    (tmp_path / "clients.csv").write_bytes(data)

    report = core_feed_import(directory=tmp_path)

    refused = report.file("clients.csv")
    assert (refused.status, refused.created, refused.errors[0].reason) == (
        Status.REFUSED,
        0,
        "the file is not valid UTF-8",
    )
    assert not Client.objects.exists()
    # The files that depend on the clients then report their rows as bad, one by one.
    assert report.file("portfolios.csv").errors[0].reason == "unknown client_number 'C0001'"


def test_a_missing_file_is_skipped_and_reported(brokers, tmp_path):
    report = core_feed_import(directory=feed_write(tmp_path, fx_rates=None))

    assert report.file("fx_rates.csv").status == Status.MISSING
    assert not report.has_errors
    assert report.file("transactions.csv").created == BASE_ROWS["transactions"]


def test_it_reads_a_byte_order_mark_quoted_fields_and_columns_in_any_order(brokers, tmp_path):
    feed_write(tmp_path)
    (tmp_path / "instruments.csv").write_text(
        '\ufeffCurrency,ISIN,name,asset_class,comment\nEUR,DE0007164600,"SAP, the ""software"" company",equity,x\n',
        encoding="utf-8",
    )

    report = core_feed_import(directory=tmp_path)

    assert report.file("instruments.csv").created == 1
    assert Instrument.objects.get(isin="DE0007164600").name == 'SAP, the "software" company'


@pytest.mark.postgres_only
def test_it_refuses_to_run_while_another_import_holds_the_lock(brokers, tmp_path):
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [feed.FEED_LOCK_KEY])
        with pytest.raises(FeedImportBusy):
            core_feed_import(directory=feed_write(tmp_path))
    finally:
        other.close()
    assert not Transaction.objects.exists()


# --- Scale -------------------------------------------------------------------------------------------------


def transactions_csv(count: int) -> str:
    header = textwrap.dedent(BASE["transactions"]).strip().splitlines()[0]
    return "\n".join([header, *(f"X{n},P1,deposit,2026-11-03,,,,1.00,EUR" for n in range(count))]) + "\n"


@pytest.mark.postgres_only
def test_a_batch_costs_the_same_number_of_queries_for_ten_or_a_thousand_rows(brokers, tmp_path):
    core_feed_import(directory=feed_write(tmp_path))

    def queries_for(count: int) -> int:
        Transaction.objects.filter(external_id__startswith="X").delete()
        with CaptureQueriesContext(connection) as context:
            report = core_feed_import(directory=feed_write(tmp_path, transactions=transactions_csv(count)))
        assert report.file("transactions.csv").created == count
        return len(context.captured_queries)

    assert queries_for(10) == queries_for(1000)


def test_the_orm_path_for_other_databases_imports_the_same(brokers, tmp_path, monkeypatch):
    monkeypatch.setattr(feed.writer, "_sql_fast_path", lambda: False)
    directory = feed_write(tmp_path)

    first = core_feed_import(directory=directory)
    second = core_feed_import(directory=directory)
    corrected = core_feed_import(
        directory=feed_write(tmp_path, prices=replaced("prices", "2026-11-03,121.00", "2026-11-03,121.40"))
    )

    assert [r.created for r in first.files] == [BASE_ROWS[n] for n in BASE]
    assert [r.unchanged for r in second.files] == [BASE_ROWS[n] for n in BASE]
    assert corrected.file("prices.csv").updated == 1
    assert Client.objects.get(number="C0001").assets_currency == "EUR"  # defaults filled as bulk_create does


def test_the_sql_path_fills_the_columns_the_feed_does_not_deliver(brokers, tmp_path):
    core_feed_import(directory=feed_write(tmp_path))

    clara = Client.objects.get(number="C0001")
    assert (clara.assets, clara.assets_currency, clara.user) == (Decimal("0"), "EUR", None)
    assert clara.created_at is not None
    portfolio = Portfolio.objects.get(number="P1")
    assert (portfolio.market_value, portfolio.valued_on) == (Decimal("0"), None)


# --- Audit and the command ---------------------------------------------------------------------------------


def test_each_run_writes_one_audit_event_with_the_counts(brokers, tmp_path):
    core_feed_import(directory=feed_write(tmp_path))

    event = AuditEvent.objects.get(action="feed.imported")
    assert event.actor_label == "core feed"
    assert event.changes["files"]["transactions.csv"] == {
        "status": "imported",
        "created": 4,
        "updated": 0,
        "unchanged": 0,
        "errors": 0,
    }
    assert (event.changes["prices_changed_from"], event.changes["portfolios_affected"]) == ("2026-11-02", 2)


def test_the_command_prints_a_summary_per_file_and_hands_the_report_to_the_valuations(brokers, tmp_path, fake_services):
    stdout = io.StringIO()

    call_command("import_core_feed", str(feed_write(tmp_path, fx_rates=None)), stdout=stdout)

    lines = stdout.getvalue().splitlines()
    assert lines[:6] == [
        "instruments.csv: 2 created, 0 updated, 0 unchanged, 0 bad rows",
        "prices.csv: 3 created, 0 updated, 0 unchanged, 0 bad rows",
        "fx_rates.csv: missing, skipped",
        "clients.csv: 2 created, 0 updated, 0 unchanged, 0 bad rows",
        "portfolios.csv: 2 created, 0 updated, 0 unchanged, 0 bad rows",
        "transactions.csv: 4 created, 0 updated, 0 unchanged, 0 bad rows",
    ]
    assert lines[-1] == "Core feed imported."
    assert len(fake_services) == 1
    assert fake_services[0].file("transactions.csv").created == 4


def test_the_command_lists_bad_rows_exits_non_zero_and_keeps_the_good_ones(brokers, tmp_path, fake_services):
    transactions = with_row("transactions", "T9,P9,deposit,2026-11-03,,,,50.00,EUR", at_line=4)
    prices = with_row("prices", "DE0007164600,2026-11-04,-1", at_line=2)
    stdout, stderr = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError) as raised:
        call_command(
            "import_core_feed",
            str(feed_write(tmp_path, transactions=transactions, prices=prices)),
            stdout=stdout,
            stderr=stderr,
        )

    assert raised.value.returncode == 1
    assert str(raised.value) == "2 bad rows in 2 files; the good rows were imported."
    assert stderr.getvalue().splitlines() == [
        "prices.csv:2: close must be greater than 0, not -1",
        "transactions.csv:4: unknown portfolio_number 'P9'",
    ]
    assert "transactions.csv: 4 created, 0 updated, 0 unchanged, 1 bad row" in stdout.getvalue()
    assert Transaction.objects.count() == 4
    assert len(fake_services) == 1  # the good rows are valued all the same


def test_the_command_says_so_when_the_valuations_cannot_be_refreshed(brokers, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "intermediaries.services", None)  # makes the import fail
    stdout = io.StringIO()

    call_command("import_core_feed", str(feed_write(tmp_path)), stdout=stdout)

    assert "valuations not refreshed" in stdout.getvalue()
    assert Transaction.objects.count() == 4


def test_the_command_refuses_a_directory_that_does_not_exist(db, tmp_path):
    with pytest.raises(CommandError, match="is not a directory"):
        call_command("import_core_feed", str(tmp_path / "nowhere"))
    assert not AuditEvent.objects.filter(action="feed.imported").exists()


# --- Intermediaries for the demo --------------------------------------------------------------------------


def test_the_demo_cast_brokers_get_their_numbers_once(cast):
    assert intermediaries_ensure_for_demo_cast() == 3
    assert intermediaries_ensure_for_demo_cast() == 0

    numbers = {i.number: (i.user, i.firm) for i in Intermediary.objects.select_related("user", "firm")}
    assert numbers == {
        "B0001": (cast.broker1, cast.alpha),
        "B0002": (cast.broker2, cast.alpha),
        "B0003": (cast.broker3, cast.beta),
    }


def test_the_large_brokers_get_numbers_matching_their_logins(db):
    firm = OrganisationFactory(name="Large Firm 001")
    first = UserFactory(email="large-broker-0001@example.com", organisation=firm)
    second = UserFactory(email="large-broker-0002@example.com", organisation=firm)

    assert large_intermediaries_ensure() == 2
    assert large_intermediaries_ensure() == 0
    assert {(i.number, i.user_id, i.firm_id) for i in Intermediary.objects.all()} == {
        ("L0001", first.pk, firm.pk),
        ("L0002", second.pk, firm.pk),
    }


# --- The demo feed --------------------------------------------------------------------------------------------


def read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def small_feed(tmp_path) -> Path:
    demo_feed_write(directory=tmp_path / "small", scale="small", until=UNTIL)
    return tmp_path / "small"


def test_the_small_demo_feed_imports_with_no_bad_rows_and_again_with_no_changes(brokers, small_feed):
    first = core_feed_import(directory=small_feed)
    second = core_feed_import(directory=small_feed)

    rows = {f"{name}.csv": len(read_csv(small_feed / f"{name}.csv")) for name in BASE}
    assert first.error_count == 0
    assert {r.file: r.created for r in first.files} == rows
    assert {r.file: r.unchanged for r in second.files} == rows
    assert Transaction.objects.count() == rows["transactions.csv"] > 1000
    assert Price.objects.filter(date=UNTIL).count() == 25
    assert Price.objects.order_by("date").first().date == date(2023, 11, 1)


def test_the_demo_step_gives_the_named_brokers_their_named_clients(cast, tmp_path):
    stdout = io.StringIO()

    (report,) = demo_feed_load(scale="small", directory=tmp_path, stdout=stdout)

    assert report.error_count == 0
    assert "Core feed (small) clients.csv: 26 created, 0 updated, 0 unchanged, 0 bad rows" in stdout.getvalue()

    books = {b.email: Client.objects.filter(advisor=b).count() for b in (cast.broker1, cast.broker2, cast.broker3)}
    assert books == {"broker1@example.com": 12, "broker2@example.com": 8, "broker3@example.com": 6}
    named = {
        c.number: (c.name, c.email, c.advisor) for c in Client.objects.filter(number__in=["C0001", "C0002", "C0003"])
    }
    assert named == {
        "C0001": ("Clara Schmidt", "client1@example.com", cast.broker1),
        "C0002": ("Carl Weber", "client2@example.com", cast.broker1),
        "C0003": ("Katya Ivanova", "client3@example.com", cast.broker3),
    }
    assert set(Instrument.objects.values_list("currency", flat=True)) == {"EUR", "USD", "CHF"}
    assert Portfolio.objects.filter(currency="USD").exists()
    assert all(isin_valid(isin) for isin in Instrument.objects.values_list("isin", flat=True))


def replay(rows: list[dict]) -> dict[str, list]:
    """Per portfolio, the end-of-day (date, cash, positions) after each booking day, from the CSV."""
    days: dict[str, list] = defaultdict(list)
    cash: dict[str, Decimal] = defaultdict(Decimal)
    positions: dict[str, dict] = defaultdict(lambda: defaultdict(Decimal))
    sign = {"deposit": 1, "sell": 1, "dividend": 1, "interest": 1, "fee_refund": 1}
    sign |= {"withdrawal": -1, "buy": -1, "fee": -1, "tax": -1}
    moves = {"buy": 1, "transfer_in": 1, "sell": -1, "transfer_out": -1, "write_off": -1}
    cancelled = {r["reference"] for r in rows if r["type"] == "reversal"}
    for row in sorted(rows, key=lambda r: (r["portfolio_number"], r["trade_date"], r["transaction_id"])):
        if row["type"] == "reversal" or row["transaction_id"] in cancelled:
            continue  # a reversal and its booking: as if neither had been booked
        number = row["portfolio_number"]
        cash[number] += sign.get(row["type"], 0) * Decimal(row["amount"] or "0")
        if row["type"] in moves:
            positions[number][row["isin"]] += moves[row["type"]] * Decimal(row["quantity"])
        if row["type"] == "split":
            positions[number][row["isin"]] *= Decimal(row["ratio"])
        held = {isin: q for isin, q in positions[number].items() if q}
        if days[number] and days[number][-1][0] == row["trade_date"]:
            days[number].pop()
        days[number].append((row["trade_date"], cash[number], held))
    return days


def test_the_small_demo_feed_holds_the_cases_a_valuation_must_handle(small_feed):
    rows = read_csv(small_feed / "transactions.csv")
    days = replay(rows)

    # No position ever goes below zero.
    assert all(q > 0 for history in days.values() for _, _, held in history for q in held.values())
    # P0002-01 is emptied (no cash, no securities) and later filled again.
    emptied = [i for i, (_, cash, held) in enumerate(days["P0002-01"]) if cash == 0 and not held]
    assert emptied and emptied[0] < len(days["P0002-01"]) - 1
    # P0001-01 buys and sells the same instrument on one day, and is paid a dividend after a sale.
    p1 = [r for r in rows if r["portfolio_number"] == "P0001-01"]
    trades = {(r["trade_date"], r["isin"], r["type"]) for r in p1}
    assert any((day, isin, "sell") in trades for day, isin, kind in trades if kind == "buy")
    assert any(r["type"] == "dividend" and r["isin"] not in held_at(days, r) for r in p1)
    # Securities move in and out, money is withdrawn, and one portfolio is closed.
    kinds = {r["type"] for r in rows}
    assert {"transfer_in", "transfer_out", "withdrawal", "dividend", "interest", "fee", "tax"} <= kinds
    statuses = {r["portfolio_number"]: r["status"] for r in read_csv(small_feed / "portfolios.csv")}
    assert statuses["P0004-02"] == "closed"
    assert days["P0004-02"][-1][1:] == (Decimal("0"), {})


def held_at(days: dict, row: dict) -> dict:
    """The positions of the row's portfolio at the end of the row's day."""
    return next(held for day, _, held in days[row["portfolio_number"]] if day == row["trade_date"])


def test_the_demo_feed_is_the_same_every_time_and_grows_by_the_new_days(tmp_path):
    demo_feed_write(directory=tmp_path / "a", scale="small", until=date(2026, 11, 18))
    demo_feed_write(directory=tmp_path / "b", scale="small", until=date(2026, 11, 18))
    demo_feed_write(directory=tmp_path / "c", scale="small", until=UNTIL)

    for name in BASE:
        assert (tmp_path / "a" / f"{name}.csv").read_bytes() == (tmp_path / "b" / f"{name}.csv").read_bytes()
    earlier = {tuple(r.values()) for r in read_csv(tmp_path / "a" / "transactions.csv")}
    later = {tuple(r.values()) for r in read_csv(tmp_path / "c" / "transactions.csv")}
    assert earlier < later
    assert all(r[3] > "2026-11-18" for r in later - earlier)


def test_a_scaled_down_large_demo_feed_imports_with_no_bad_rows(db, tmp_path, monkeypatch):
    monkeypatch.setitem(demo_feed.LARGE, "instruments", 40)
    monkeypatch.setitem(demo_feed.LARGE, "intermediaries", 5)
    monkeypatch.setitem(demo_feed.LARGE, "clients", 60)
    firm = OrganisationFactory(name="Large Firm 001")
    for n in range(1, 6):
        UserFactory(email=f"large-broker-{n:04d}@example.com", organisation=firm)
    large_intermediaries_ensure()
    demo_feed_write(directory=tmp_path, scale="large", until=UNTIL)

    report = core_feed_import(directory=tmp_path)

    assert report.error_count == 0
    assert report.file("clients.csv").created == 60
    assert Instrument.objects.count() == 40
    assert Client.objects.filter(number__startswith="LC", advisor__isnull=False).count() == 60
    assert Transaction.objects.filter(external_id__startswith="LP").count() == len(
        read_csv(tmp_path / "transactions.csv")
    )
