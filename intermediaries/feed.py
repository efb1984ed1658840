"""The core system feed: six CSV files from the dealer's core system, validated and imported.

Brokers do not book anything; the core system does and delivers, every night, the files below
(columns in docs/core-feed.md). `core_feed_import()` reads them in dependency order, streams each
file in batches of 5,000 rows (one query finds a batch's existing rows, one inserts the new ones,
one `bulk_update` writes the corrected ones; on PostgreSQL the first two pass whole columns as
arrays) and commits each file in its own transaction. A bad row is reported with file, line and reason and
the rest of its file is still imported; a file whose header is wrong is refused whole. Every row is
matched by its natural key, so importing the same files again changes nothing and a corrected row
updates its record. The report says which portfolios, prices and rates changed and from which day,
so valuations can be recomputed incrementally.
"""

import csv
import re
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache, reduce
from operator import or_
from pathlib import Path
from types import SimpleNamespace
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, models, reset_queries, transaction
from django.db.models import Min, Q
from django.utils import timezone

from clients.models import Client
from portal.audit.services import audit_record
from portal.core.versioned_cache import data_changed_on_commit

from .models import AssetClass, FxRate, Instrument, Intermediary, Portfolio, Price, Transaction, TransactionType

BATCH_SIZE = 5000
# A feed that is wrong from top to bottom would otherwise hold millions of messages in memory.
MAX_ERRORS_KEPT = 10_000
# pg_try_advisory_lock key ("PZFE"): two imports at once would race on the same natural keys.
FEED_LOCK_KEY = 0x505A4645

ISIN_RE = re.compile(r"[A-Z]{2}[A-Z0-9]{9}[0-9]")
CURRENCY_RE = re.compile(r"[A-Z]{3}")
COUNTRY_RE = re.compile(r"[A-Z]{2}")
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Plain notation only: no exponent, no NaN or Infinity, no thousands separator, no decimal comma.
DECIMAL_RE = re.compile(r"([+-]?)(\d+)(?:\.(\d+))?")

# Types that move securities, and therefore need an ISIN and a quantity.
SECURITY_TYPES = {TransactionType.BUY, TransactionType.SELL, TransactionType.TRANSFER_IN, TransactionType.TRANSFER_OUT}
ISIN_REQUIRED_TYPES = SECURITY_TYPES | {TransactionType.DIVIDEND}


class Status:
    IMPORTED = "imported"
    MISSING = "missing"
    REFUSED = "refused"


class FeedError(NamedTuple):
    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass
class ImportReport:
    """What one file did: counts of rows created, updated and unchanged, and every bad row."""

    file: str
    status: str = Status.IMPORTED
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[FeedError] = field(default_factory=list)
    errors_omitted: int = 0  # bad rows beyond MAX_ERRORS_KEPT, counted but not kept

    @property
    def error_count(self) -> int:
        return len(self.errors) + self.errors_omitted

    def error(self, line: int, reason: str) -> None:
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(FeedError(self.file, line, reason))
        else:
            self.errors_omitted += 1

    def summary(self) -> dict:
        return {
            "status": self.status,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": self.error_count,
        }


def _earliest(dates: dict, key, day: date) -> None:
    if key not in dates or day < dates[key]:
        dates[key] = day


@dataclass
class _Changes:
    """What a file changed for valuations; merged into the run's report only once the file commits."""

    portfolios: dict[int, date] = field(default_factory=dict)
    prices: dict[int, date] = field(default_factory=dict)
    fx: dict[str, date] = field(default_factory=dict)
    advisors: set[int] = field(default_factory=set)


@dataclass
class FeedReport:
    """One import run: a report per file, and what changed for the valuations.

    `affected_portfolios` maps a portfolio id to the earliest day whose valuation may have changed;
    `price_changes` and `fx_changes` do the same for instruments and currencies; `affected_advisors`
    are users whose books gained or lost a client or portfolio (old and new advisor both).
    """

    directory: Path
    files: list[ImportReport] = field(default_factory=list)
    affected_portfolios: dict[int, date] = field(default_factory=dict)
    price_changes: dict[int, date] = field(default_factory=dict)
    fx_changes: dict[str, date] = field(default_factory=dict)
    affected_advisors: set[int] = field(default_factory=set)

    @property
    def errors(self) -> list[FeedError]:
        return [error for report in self.files for error in report.errors]

    @property
    def error_count(self) -> int:
        return sum(report.error_count for report in self.files)

    @property
    def has_errors(self) -> bool:
        return self.error_count > 0

    @property
    def prices_changed(self) -> bool:
        return bool(self.price_changes)

    @property
    def prices_changed_from(self) -> date | None:
        return min(self.price_changes.values(), default=None)

    # The names the valuation service reads.
    @property
    def prices_changed_since(self) -> date | None:
        return self.prices_changed_from

    @property
    def fx_changed_since(self) -> date | None:
        return self.fx_changed_from

    @property
    def fx_changed(self) -> bool:
        return bool(self.fx_changes)

    @property
    def fx_changed_from(self) -> date | None:
        return min(self.fx_changes.values(), default=None)

    def file(self, name: str) -> ImportReport:
        return next(report for report in self.files if report.file == name)

    def merge(self, changes: _Changes) -> None:
        for target, source in (
            (self.affected_portfolios, changes.portfolios),
            (self.price_changes, changes.prices),
            (self.fx_changes, changes.fx),
        ):
            for key, day in source.items():
                _earliest(target, key, day)
        self.affected_advisors |= changes.advisors

    def summary(self) -> dict:
        """Counts for the audit trail (JSON-safe)."""
        return {
            "directory": str(self.directory),
            "files": {report.file: report.summary() for report in self.files},
            "portfolios_affected": len(self.affected_portfolios),
            "prices_changed_from": _iso(self.prices_changed_from),
            "fx_changed_from": _iso(self.fx_changed_from),
        }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


class FeedImportBusy(Exception):
    """Another import of the core feed holds the lock."""


class RowError(ValueError):
    """A row the importer cannot accept; the message is the reason shown to the operator."""


class FileRefused(Exception):
    def __init__(self, line: int, reason: str):
        super().__init__(reason)
        self.line = line
        self.reason = reason


# --- Validation of single values ----------------------------------------------------------------


@lru_cache(maxsize=100_000)
def isin_check_digit(body: str) -> str:
    """The check digit for an ISIN's first eleven characters (ISO 6166).

    Letters become two digits (A=10 … Z=35), then Luhn: from the right, every other digit is
    doubled, starting with the rightmost because the check digit will follow it.
    """
    digits = "".join(str(int(char, 36)) for char in body)
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str(-total % 10)


def isin_valid(value: str) -> bool:
    return bool(ISIN_RE.fullmatch(value)) and value[11] == isin_check_digit(value[:11])


def _field(model: type[models.Model], name: str):
    return model._meta.get_field(name)


def _text(values: dict, column: str, *, max_length: int, required: bool = True) -> str:
    value = values[column]
    if required and not value:
        raise RowError(f"{column} is empty")
    if len(value) > max_length:
        raise RowError(f"{column} is longer than {max_length} characters")
    return value


@lru_cache
def _choice_values(choices: type[models.TextChoices]) -> frozenset[str]:
    return frozenset(choices.values)  # Choices.values builds a new list on every access


def _choice(values: dict, column: str, choices: type[models.TextChoices]) -> str:
    value = values[column]
    if value not in _choice_values(choices):
        raise RowError(f"{column} {value!r} is not one of {', '.join(choices.values)}")
    return value


def _isin(values: dict, column: str, *, required: bool = True) -> str:
    value = values[column]
    if not value:
        if required:
            raise RowError(f"{column} is empty")
        return ""
    if not ISIN_RE.fullmatch(value):
        raise RowError(f"{column} {value!r} is not an ISIN (2 letters, 9 letters or digits, 1 check digit)")
    if value[11] != isin_check_digit(value[:11]):
        raise RowError(f"{column} {value!r} has a wrong check digit (expected {isin_check_digit(value[:11])})")
    return value


def _currency(values: dict, column: str) -> str:
    value = values[column]
    if not CURRENCY_RE.fullmatch(value):
        raise RowError(f"{column} {value!r} is not an ISO 4217 code (3 capital letters)")
    return value


def _date(values: dict, column: str, *, required: bool = True) -> date | None:
    value = values[column]
    if not value:
        if required:
            raise RowError(f"{column} is empty")
        return None
    if not DATE_RE.fullmatch(value):
        raise RowError(f"{column} {value!r} is not a date in the form YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RowError(f"{column} {value!r} is not a valid date") from None


def _decimal(values: dict, column: str, *, model_field, minimum: str = "any", required: bool = True) -> Decimal:
    """A decimal that fits `model_field` exactly: refused rather than rounded, so a re-import compares equal.

    `minimum` is "positive" (> 0), "zero" (>= 0) or "any".
    """
    value = values[column]
    if not value:
        if required:
            raise RowError(f"{column} is empty")
        return Decimal(0)
    match = DECIMAL_RE.fullmatch(value)
    if not match:
        raise RowError(f"{column} {value!r} is not a decimal number (digits and an optional '.')")
    places = model_field.decimal_places
    whole = model_field.max_digits - places
    if len((match.group(3) or "").rstrip("0")) > places:
        raise RowError(f"{column} {value} has more than {places} decimal places")
    if len(match.group(2).lstrip("0")) > whole:
        raise RowError(f"{column} {value} has more than {whole} digits before the decimal point")
    number = Decimal(value)
    if minimum == "positive" and number <= 0:
        raise RowError(f"{column} must be greater than 0, not {value}")
    if minimum == "zero" and number < 0:
        raise RowError(f"{column} must not be negative, not {value}")
    return number


# --- One importer per file ------------------------------------------------------------------------


class _PkSet:
    """Primary keys already written by this file, one bit each (2,000,000 rows cost 250 kB, not 100 MB).

    It tells a row that repeats an earlier line's key, further back than the current batch.
    """

    def __init__(self):
        self.bits = bytearray()

    def add(self, pk: int) -> None:
        index = pk >> 3
        if index >= len(self.bits):
            self.bits.extend(bytes(max(index + 1 - len(self.bits), len(self.bits))))
        self.bits[index] |= 1 << (pk & 7)

    def __contains__(self, pk: int) -> bool:
        index = pk >> 3
        return index < len(self.bits) and bool(self.bits[index] >> (pk & 7) & 1)


class _Importer(ABC):
    """Streams one file: header check, row parsing, and per batch lookup, compare, create, update.

    A subclass names its file, columns, model, natural key and compared fields, parses a row into
    a record (a dict with the model's attribute names, plus any reference such as `isin`), and may
    resolve references for a whole batch in one query.
    """

    file_name: str
    columns: tuple[str, ...]
    model: type[models.Model]
    key_fields: tuple[str, ...]
    fields: tuple[str, ...]  # compared, and written on update
    touch_field: str = ""  # an auto_now timestamp that bulk_update would otherwise leave alone

    def __init__(self, report: ImportReport, changes: _Changes):
        self.report = report
        self.changes = changes
        self.written = _PkSet()

    # Hooks for subclasses.

    def prepare(self) -> None:
        """Called once, inside the file's transaction, before the first row."""

    @abstractmethod
    def parse(self, values: dict[str, str]) -> dict:
        """One CSV row (column → text) as model values; raise RowError for a bad row."""

    def resolve(self, rows: list[tuple[int, dict]]) -> list[tuple[int, dict]]:
        """Turn references into ids for a whole batch; report and drop rows whose reference is unknown."""
        return rows

    @abstractmethod
    def describe(self, record: dict) -> str:
        """The record in words, for error messages."""

    def created(self, record: dict) -> None:
        """A new row: note what it changes for valuations."""

    def changed(self, old: SimpleNamespace, record: dict, fields: list[str]) -> None:
        """An existing row is about to change `fields`; `old` has its pk, key and fields as they were."""

    def batch_done(self) -> None:
        """Follow-up queries for what `changed()` noted, one per batch."""

    # The machinery.

    def run(self, rows: Iterator[list[str]], line_number: Callable[[], int]) -> None:
        header = next(rows, None)
        if header is None or not any(cell.strip() for cell in header):
            raise FileRefused(1, "the file is empty; a header row is required")
        header = [cell.strip().lower() for cell in header]
        duplicates = sorted({column for column in header if column and header.count(column) > 1})
        if duplicates:
            raise FileRefused(1, f"the header names {', '.join(duplicates)} more than once")
        missing = [column for column in self.columns if column not in header]
        if missing:
            raise FileRefused(
                1, f"the header lacks {', '.join(missing)}; expected the columns {','.join(self.columns)}"
            )
        positions = {column: header.index(column) for column in self.columns}
        width = len(header)

        self.prepare()
        batch: list[tuple[int, dict]] = []
        end = line_number()
        for row in rows:
            line, end = end + 1, line_number()
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != width:
                self.report.error(line, f"expected {width} fields as in the header, found {len(row)}")
                continue
            values = {column: row[index].strip() for column, index in positions.items()}
            try:
                batch.append((line, self.parse(values)))
            except RowError as exc:
                self.report.error(line, str(exc))
                continue
            if len(batch) >= BATCH_SIZE:
                self.apply(batch)
                batch = []
        if batch:
            self.apply(batch)

    def key(self, record: dict) -> Hashable:
        return tuple(record[name] for name in self.key_fields)

    def existing(self, keys: list[tuple]) -> dict[Hashable, tuple]:
        """The batch's rows already in the database, in one query, as (pk, *key_fields, *fields) tuples.

        Tuples, not model instances: on a re-import nearly every row is unchanged, and building
        two million instances only to compare them would double the time.
        """
        if _sql_fast_path():
            return self._existing_sql(keys)
        first, *rest = self.key_fields
        if not rest:
            condition = Q(**{f"{first}__in": [key[0] for key in keys]})
        else:
            # Composite keys: one `first = x AND second IN (…)` term per value of the first field,
            # which for a feed sorted by instrument or currency is a handful of terms per batch.
            (second,) = rest
            grouped: dict = defaultdict(set)
            for a, b in keys:
                grouped[a].add(b)
            condition = reduce(or_, (Q(**{first: a, f"{second}__in": list(bs)}) for a, bs in grouped.items()))
        width = len(self.key_fields)
        rows = self.model.objects.filter(condition).values_list("pk", *self.key_fields, *self.fields)
        return {row[1 : 1 + width]: row for row in rows}

    def _existing_sql(self, keys: list[tuple]) -> dict[Hashable, tuple]:
        """PostgreSQL: join the table to the keys passed as arrays, a handful of parameters, not 5,000."""
        meta, quote = self.model._meta, connection.ops.quote_name
        key_fields = [meta.get_field(name) for name in self.key_fields]
        selected = [meta.pk, *key_fields, *(meta.get_field(name) for name in self.fields)]
        arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in key_fields)
        names = ", ".join(quote(field.column) for field in key_fields)
        join = " AND ".join(f"t.{quote(field.column)} = k.{quote(field.column)}" for field in key_fields)
        # Names come from the model's metadata, every value is a parameter.
        sql = (
            f"SELECT {', '.join('t.' + quote(field.column) for field in selected)} "  # noqa: S608
            f"FROM {quote(meta.db_table)} t JOIN unnest({arrays}) AS k({names}) ON {join}"
        )
        width = len(key_fields)
        with connection.cursor() as cursor:
            cursor.execute(sql, [list(column) for column in zip(*keys, strict=True)])
            return {row[1 : 1 + width]: row for row in cursor.fetchall()}

    def insert(self, records: list[dict]) -> list:
        """Create the batch's new rows; returns their primary keys (where the database tells them)."""
        if _sql_fast_path():
            return self._insert_sql(records)
        names = self.key_fields + self.fields
        created = self.model.objects.bulk_create([self.model(**{n: r[n] for n in names}) for r in records])
        return [obj.pk for obj in created]

    def _insert_sql(self, records: list[dict]) -> list:
        """PostgreSQL: one INSERT … SELECT FROM unnest(column arrays), without an instance per row.

        Columns the feed does not deliver get the model's default, as bulk_create would give them.
        """
        meta, quote = self.model._meta, connection.ops.quote_name
        now = timezone.now()
        columns, arrays = [], []
        for model_field in meta.concrete_fields:
            if model_field.primary_key or model_field.generated or model_field.has_db_default():
                continue
            name = model_field.attname
            if name in records[0]:
                values = [record[name] for record in records]
            elif getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False):
                values = [now] * len(records)
            else:
                values = [model_field.get_default() for _ in records]
            columns.append(model_field)
            arrays.append(values)
        sql = (
            f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in columns)}) "  # noqa: S608
            f"SELECT * FROM unnest({', '.join(f'%s::{f.db_type(connection)}[]' for f in columns)}) "
            f"RETURNING {quote(meta.pk.column)}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, arrays)
            return [pk for (pk,) in cursor.fetchall()]

    def apply(self, rows: list[tuple[int, dict]]) -> None:
        rows = self.resolve(rows)
        first_line: dict[Hashable, int] = {}
        unique = []
        for line, record in rows:
            key = self.key(record)
            if key in first_line:
                self.report.error(line, f"{self.describe(record)} repeats line {first_line[key]}")
                continue
            first_line[key] = line
            unique.append((line, key, record))
        found = self.existing(list(first_line)) if first_line else {}

        names = ("pk", *self.key_fields, *self.fields)
        width = 1 + len(self.key_fields)
        new, changed = [], []
        now = timezone.now()
        for line, key, record in unique:
            row = found.get(key)
            if row is None:
                new.append(record)
                self.created(record)
                continue
            pk = row[0]
            if pk in self.written:
                self.report.error(line, f"{self.describe(record)} repeats an earlier line of this file")
                continue
            self.written.add(pk)
            differences = [name for name, old in zip(self.fields, row[width:], strict=True) if old != record[name]]
            if not differences:
                self.report.unchanged += 1
                continue
            self.changed(SimpleNamespace(**dict(zip(names, row, strict=True))), record, differences)
            obj = self.model(pk=pk, **{name: record[name] for name in self.fields})
            if self.touch_field:
                setattr(obj, self.touch_field, now)
            changed.append(obj)

        if new:
            for pk in self.insert(new):
                if pk is not None:
                    self.written.add(pk)
            self.report.created += len(new)
        if changed:
            update_fields = list(self.fields) + ([self.touch_field] if self.touch_field else [])
            self.model.objects.bulk_update(changed, update_fields, batch_size=1000)
            self.report.updated += len(changed)
        self.batch_done()
        # With DEBUG on, Django keeps every query's SQL; 400 batches of 5,000 rows would keep 400 MB.
        # A test or tool that captures queries on purpose (force_debug_cursor) keeps its log.
        if not connection.force_debug_cursor:
            reset_queries()


class InstrumentImporter(_Importer):
    file_name = "instruments.csv"
    columns = ("isin", "name", "asset_class", "currency")
    model = Instrument
    key_fields = ("isin",)
    fields = ("name", "asset_class", "currency")

    def prepare(self):
        self.currency_changed: list[int] = []

    def parse(self, values):
        return {
            "isin": _isin(values, "isin"),
            "name": _text(values, "name", max_length=_field(Instrument, "name").max_length),
            "asset_class": _choice(values, "asset_class", AssetClass),
            "currency": _currency(values, "currency"),
        }

    def describe(self, record):
        return f"ISIN {record['isin']}"

    def changed(self, old, record, fields):
        if "currency" in fields:
            self.currency_changed.append(old.pk)

    def batch_done(self):
        # A new currency re-prices every close of the instrument: changed from its first price on.
        if self.currency_changed:
            first_prices = (
                Price.objects.filter(instrument_id__in=self.currency_changed)
                .values_list("instrument_id")
                .annotate(first=Min("date"))
            )
            for instrument_id, first in first_prices:
                _earliest(self.changes.prices, instrument_id, first)
            self.currency_changed = []


def _instrument_ids(isins: Iterable[str]) -> dict[str, int]:
    return dict(Instrument.objects.filter(isin__in=set(isins)).values_list("isin", "id"))


class PriceImporter(_Importer):
    file_name = "prices.csv"
    columns = ("isin", "date", "close")
    model = Price
    key_fields = ("instrument_id", "date")
    fields = ("close",)

    def parse(self, values):
        return {
            "isin": _isin(values, "isin"),
            "date": _date(values, "date"),
            "close": _decimal(values, "close", model_field=_field(Price, "close"), minimum="positive"),
        }

    def resolve(self, rows):
        ids = _instrument_ids(record["isin"] for _, record in rows)
        resolved = []
        for line, record in rows:
            if record["isin"] not in ids:
                self.report.error(line, f"unknown ISIN {record['isin']}: not in instruments.csv nor the database")
                continue
            record["instrument_id"] = ids[record["isin"]]
            resolved.append((line, record))
        return resolved

    def describe(self, record):
        return f"the price of {record['isin']} on {record['date']}"

    def created(self, record):
        _earliest(self.changes.prices, record["instrument_id"], record["date"])

    def changed(self, old, record, fields):
        _earliest(self.changes.prices, old.instrument_id, old.date)


class FxRateImporter(_Importer):
    file_name = "fx_rates.csv"
    columns = ("currency", "date", "rate")
    model = FxRate
    key_fields = ("currency", "date")
    fields = ("rate",)

    def parse(self, values):
        currency = _currency(values, "currency")
        if currency == "EUR":
            raise RowError("currency EUR is the base currency; its rate is always 1")
        return {
            "currency": currency,
            "date": _date(values, "date"),
            "rate": _decimal(values, "rate", model_field=_field(FxRate, "rate"), minimum="positive"),
        }

    def describe(self, record):
        return f"the {record['currency']} rate on {record['date']}"

    def created(self, record):
        _earliest(self.changes.fx, record["currency"], record["date"])

    def changed(self, old, record, fields):
        _earliest(self.changes.fx, old.currency, old.date)


class ClientImporter(_Importer):
    file_name = "clients.csv"
    columns = (
        "client_number",
        "first_name",
        "last_name",
        "email",
        "phone",
        "street",
        "postcode",
        "city",
        "country",
        "birth_date",
        "status",
        "intermediary_number",
    )
    model = Client
    key_fields = ("number",)
    fields = (
        "first_name",
        "last_name",
        "email",
        "phone",
        "street",
        "postcode",
        "city",
        "country",
        "birth_date",
        "status",
        "advisor_id",
    )
    touch_field = "updated_at"

    def prepare(self):
        # A few thousand brokers at most: one query for the whole file.
        self.advisors = dict(Intermediary.objects.values_list("number", "user_id"))
        self.reassigned: list[int] = []

    def parse(self, values):
        def text(column, name=None, required=False):
            return _text(values, column, max_length=_field(Client, name or column).max_length, required=required)

        email = text("email")
        if email:
            try:
                validate_email(email)
            except ValidationError:
                raise RowError(f"email {email!r} is not an e-mail address") from None
        country = values["country"]
        if country and not COUNTRY_RE.fullmatch(country):
            raise RowError(f"country {country!r} is not an ISO 3166 code (2 capital letters)")
        intermediary = values["intermediary_number"]
        if intermediary and intermediary not in self.advisors:
            raise RowError(f"unknown intermediary_number {intermediary!r}")
        return {
            "number": text("client_number", "number", required=True),
            "first_name": text("first_name", required=True),
            "last_name": text("last_name", required=True),
            "email": email,
            "phone": text("phone"),
            "street": text("street"),
            "postcode": text("postcode"),
            "city": text("city"),
            "country": country,
            "birth_date": _date(values, "birth_date", required=False),
            "status": _choice(values, "status", Client.Status),
            "advisor_id": self.advisors.get(intermediary),
        }

    def describe(self, record):
        return f"client {record['number']}"

    def changed(self, old, record, fields):
        if "advisor_id" in fields:
            self.changes.advisors.update(a for a in (old.advisor_id, record["advisor_id"]) if a is not None)
            self.reassigned.append(old.pk)

    def batch_done(self):
        # A client who moves to another broker moves every portfolio's whole history between books.
        if self.reassigned:
            for portfolio_id, opened_on in Portfolio.objects.filter(client_id__in=self.reassigned).values_list(
                "id", "opened_on"
            ):
                _earliest(self.changes.portfolios, portfolio_id, opened_on)
            self.reassigned = []


class PortfolioImporter(_Importer):
    file_name = "portfolios.csv"
    columns = ("portfolio_number", "client_number", "name", "currency", "opened_on", "status")
    model = Portfolio
    key_fields = ("number",)
    fields = ("client_id", "name", "currency", "opened_on", "status")

    def prepare(self):
        self.moved_between: set[int] = set()

    def parse(self, values):
        return {
            "number": _text(values, "portfolio_number", max_length=_field(Portfolio, "number").max_length),
            "client_number": _text(values, "client_number", max_length=_field(Client, "number").max_length),
            "name": _text(values, "name", max_length=_field(Portfolio, "name").max_length),
            "currency": _currency(values, "currency"),
            "opened_on": _date(values, "opened_on"),
            "status": _choice(values, "status", Portfolio.Status),
        }

    def resolve(self, rows):
        ids = dict(
            Client.objects.filter(number__in={record["client_number"] for _, record in rows}).values_list(
                "number", "id"
            )
        )
        resolved = []
        for line, record in rows:
            if record["client_number"] not in ids:
                self.report.error(line, f"unknown client_number {record['client_number']!r}")
                continue
            record["client_id"] = ids[record["client_number"]]
            resolved.append((line, record))
        return resolved

    def describe(self, record):
        return f"portfolio {record['number']}"

    def changed(self, old, record, fields):
        # Name and status do not change a value; currency, opening day and owner change its whole history.
        # The stored days were valued in the old currency or for the old owner: replay from the
        # first booking (date.min), never resume from them.
        if {"client_id", "currency", "opened_on"} & set(fields):
            _earliest(self.changes.portfolios, old.pk, date.min)
        if "client_id" in fields:
            self.moved_between |= {old.client_id, record["client_id"]}

    def batch_done(self):
        if self.moved_between:
            advisors = Client.objects.filter(pk__in=self.moved_between, advisor__isnull=False)
            self.changes.advisors.update(advisors.values_list("advisor_id", flat=True))
            self.moved_between = set()


class TransactionImporter(_Importer):
    file_name = "transactions.csv"
    columns = (
        "transaction_id",
        "portfolio_number",
        "type",
        "trade_date",
        "isin",
        "quantity",
        "price",
        "amount",
        "currency",
    )
    model = Transaction
    key_fields = ("external_id",)
    fields = ("portfolio_id", "type", "trade_date", "instrument_id", "quantity", "price", "amount", "currency")

    def parse(self, values):
        kind = _choice(values, "type", TransactionType)
        isin = _isin(values, "isin", required=False)
        if kind in ISIN_REQUIRED_TYPES and not isin:
            raise RowError(f"a {kind} needs an isin")
        quantity = _decimal(
            values,
            "quantity",
            model_field=_field(Transaction, "quantity"),
            minimum="positive" if kind in SECURITY_TYPES else "zero",
            required=kind in SECURITY_TYPES,
        )
        price = _decimal(
            values,
            "price",
            model_field=_field(Transaction, "price"),
            minimum="positive" if kind in (TransactionType.BUY, TransactionType.SELL) else "zero",
            required=kind in (TransactionType.BUY, TransactionType.SELL),
        )
        return {
            "external_id": _text(values, "transaction_id", max_length=_field(Transaction, "external_id").max_length),
            "portfolio_number": _text(values, "portfolio_number", max_length=_field(Portfolio, "number").max_length),
            "type": kind,
            "trade_date": _date(values, "trade_date"),
            "isin": isin,
            "quantity": quantity,
            "price": price,
            "amount": _decimal(values, "amount", model_field=_field(Transaction, "amount"), minimum="zero"),
            "currency": _currency(values, "currency"),
        }

    def resolve(self, rows):
        portfolios = dict(
            Portfolio.objects.filter(number__in={record["portfolio_number"] for _, record in rows}).values_list(
                "number", "id"
            )
        )
        instruments = _instrument_ids(record["isin"] for _, record in rows if record["isin"])
        resolved = []
        for line, record in rows:
            if record["portfolio_number"] not in portfolios:
                self.report.error(line, f"unknown portfolio_number {record['portfolio_number']!r}")
                continue
            if record["isin"] and record["isin"] not in instruments:
                self.report.error(line, f"unknown ISIN {record['isin']}: not in instruments.csv nor the database")
                continue
            record["portfolio_id"] = portfolios[record["portfolio_number"]]
            record["instrument_id"] = instruments.get(record["isin"])
            resolved.append((line, record))
        return resolved

    def describe(self, record):
        return f"transaction {record['external_id']}"

    def created(self, record):
        _earliest(self.changes.portfolios, record["portfolio_id"], record["trade_date"])

    def changed(self, old, record, fields):
        _earliest(self.changes.portfolios, old.portfolio_id, old.trade_date)
        _earliest(self.changes.portfolios, record["portfolio_id"], record["trade_date"])


IMPORTERS: tuple[type[_Importer], ...] = (
    InstrumentImporter,
    PriceImporter,
    FxRateImporter,
    ClientImporter,
    PortfolioImporter,
    TransactionImporter,
)
FEED_FILES = tuple(importer.file_name for importer in IMPORTERS)


# --- The service ------------------------------------------------------------------------------------


def _file_import(importer_class: type[_Importer], path: Path) -> tuple[ImportReport, _Changes | None]:
    """One file in one transaction; a refused file rolls back whatever it had written."""
    name = importer_class.file_name
    if not path.is_file():
        return ImportReport(file=name, status=Status.MISSING), None
    report, changes = ImportReport(file=name), _Changes()
    try:
        # utf-8-sig drops a byte order mark if there is one; newline="" lets csv handle quoted line breaks.
        with path.open(encoding="utf-8-sig", newline="") as handle, transaction.atomic(durable=True):
            reader = csv.reader(handle)
            try:
                importer_class(report, changes).run(reader, lambda: reader.line_num)
            except UnicodeDecodeError:
                raise FileRefused(reader.line_num + 1, "the file is not valid UTF-8") from None
            except csv.Error as exc:
                raise FileRefused(reader.line_num, f"the file is not readable as CSV: {exc}") from None
    except FileRefused as exc:
        return ImportReport(file=name, status=Status.REFUSED, errors=[FeedError(name, exc.line, exc.reason)]), None
    except OSError as exc:
        return ImportReport(file=name, status=Status.REFUSED, errors=[FeedError(name, 0, str(exc))]), None
    return report, changes


def _sql_fast_path() -> bool:
    """PostgreSQL gets array-based SQL for lookups and inserts; other databases go through the ORM."""
    return connection.vendor == "postgresql"


@contextmanager
def _feed_lock():
    if connection.vendor != "postgresql":
        # SQLite (the embedded demo) has one writer at a time anyway.
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [FEED_LOCK_KEY])
        (acquired,) = cursor.fetchone()
    if not acquired:
        raise FeedImportBusy("Another import of the core feed is running; try again when it has finished.")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [FEED_LOCK_KEY])


def core_feed_import(*, directory: Path) -> FeedReport:
    """Import the core system's files from `directory`, each file in its own transaction.

    Files are read in dependency order (instruments before prices, clients before portfolios, …);
    a missing file is skipped and reported. Raises FeedImportBusy if another import is running and
    NotADirectoryError if `directory` is not one.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise NotADirectoryError(f"{directory} is not a directory")
    report = FeedReport(directory=directory)
    with _feed_lock():
        for importer_class in IMPORTERS:
            file_report, changes = _file_import(importer_class, directory / importer_class.file_name)
            report.files.append(file_report)
            if changes is not None:
                report.merge(changes)
        with transaction.atomic(durable=True):
            audit_record(action="feed.imported", actor_label="core feed", changes=report.summary())
    data_changed_on_commit()
    return report
