"""What every file's import does: check the header, parse rows, and per batch compare and write.

A file kind (instruments.py, prices.py, …) subclasses `FileImporter`: it names its file, columns,
model, natural key and compared fields, parses a row into a record (a dict with the model's
attribute names, plus any reference such as `isin`), and may resolve references for a whole batch
in one query.
"""

from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Iterator

from django.db import connection, models, reset_queries

from .report import Changes, ImportReport
from .values import RowError
from .writer import BatchWriter

BATCH_SIZE = 5000


class FileRefused(Exception):
    """The whole file is refused (a broken header, not UTF-8, not CSV): nothing of it is imported."""

    def __init__(self, line: int, reason: str):
        super().__init__(reason)
        self.line = line
        self.reason = reason


class PkSet:
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


def header_positions(
    header: list[str] | None, columns: tuple[str, ...], optional: tuple[str, ...] = ()
) -> tuple[dict[str, int], int]:
    """Where each expected column is in the header row, and the row width; FileRefused when it is wrong.

    A column in `optional` may be left out of the header (its values read as empty); the others must be there.
    """
    if header is None or not any(cell.strip() for cell in header):
        raise FileRefused(1, "the file is empty; a header row is required")
    header = [cell.strip().lower() for cell in header]
    duplicates = sorted({column for column in header if column and header.count(column) > 1})
    if duplicates:
        raise FileRefused(1, f"the header names {', '.join(duplicates)} more than once")
    missing = [column for column in columns if column not in header and column not in optional]
    if missing:
        required = ",".join(column for column in columns if column not in optional)
        more = f" (and optionally {','.join(optional)})" if optional else ""
        raise FileRefused(1, f"the header lacks {', '.join(missing)}; expected the columns {required}{more}")
    return {column: header.index(column) for column in columns if column in header}, len(header)


class FileImporter(ABC):
    """Streams one file: header check, row parsing, and per batch lookup, compare, create, update."""

    file_name: str
    columns: tuple[str, ...]
    model: type[models.Model]
    key_fields: tuple[str, ...]
    fields: tuple[str, ...]  # compared, and written on update
    # Columns added to a file after its first version: a header may leave them out (read as empty),
    # so a core system that does not send them yet goes on working.
    optional_columns: tuple[str, ...] = ()

    def __init__(self, report: ImportReport, changes: Changes):
        self.report = report
        self.changes = changes
        self.written = PkSet()
        self.writer = BatchWriter(self.model, self.key_fields, self.fields)

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

    def changed(self, old: tuple, record: dict, fields: list[str]) -> None:
        """An existing row is about to change `fields`; `old` is its stored row (pk, key and fields by name)."""

    def batch_done(self) -> None:
        """Follow-up queries for what `changed()` noted, one per batch."""

    def write(self, new: list[dict], changed: list[tuple[int, dict]]) -> list:
        """Create the new records and update the changed ones (pk, record); returns the new primary keys."""
        pks = self.writer.insert(new) if new else []
        if changed:
            self.writer.update(changed)
        return pks

    # The machinery.

    def run(self, rows: Iterator[list[str]], line_number: Callable[[], int]) -> None:
        """Read the header, then every row; parse each and apply them in batches of BATCH_SIZE."""
        positions, width = header_positions(next(rows, None), self.columns, self.optional_columns)
        absent = dict.fromkeys(column for column in self.columns if column not in positions)
        self.prepare()
        batch: list[tuple[int, dict]] = []
        end = line_number()
        for row in rows:
            line, end = end + 1, line_number()
            record = self.parse_row(line, row, positions, width, absent)
            if record is None:
                continue
            batch.append((line, record))
            if len(batch) >= BATCH_SIZE:
                self.apply(batch)
                batch = []
        if batch:
            self.apply(batch)

    def parse_row(
        self, line: int, row: list[str], positions: dict[str, int], width: int, absent: dict | None = None
    ) -> dict | None:
        """The row's record; None for a blank row, and for a bad one (reported).

        `absent` names the optional columns the header left out: they read as empty.
        """
        if not any(cell.strip() for cell in row):
            return None
        if len(row) != width:
            self.report.error(line, f"expected {width} fields as in the header, found {len(row)}")
            return None
        values = {column: row[index].strip() for column, index in positions.items()}
        if absent:
            values.update(dict.fromkeys(absent, ""))
        try:
            return self.parse(values)
        except RowError as exc:
            self.report.error(line, str(exc))
            return None

    def key(self, record: dict) -> Hashable:
        return tuple(record[name] for name in self.key_fields)

    def apply(self, rows: list[tuple[int, dict]]) -> None:
        """One batch: resolve references, drop repeated keys, compare with the stored rows, write."""
        unique = self.unique(self.resolve(rows))
        found = self.writer.find([key for _, key, _ in unique]) if unique else {}
        new, changed = self.compare(unique, found)
        for pk in self.write(new, changed):
            if pk is not None:
                self.written.add(pk)
        self.report.created += len(new)
        self.report.updated += len(changed)
        self.batch_done()
        # With DEBUG on, Django keeps every query's SQL; 400 batches of 5,000 rows would keep 400 MB.
        # A test or tool that captures queries on purpose (force_debug_cursor) keeps its log.
        if not connection.force_debug_cursor:
            reset_queries()

    def unique(self, rows: list[tuple[int, dict]]) -> list[tuple[int, Hashable, dict]]:
        """(line, key, record) of the batch's rows; a key repeated within the batch is a bad row."""
        first_line: dict[Hashable, int] = {}
        unique = []
        for line, record in rows:
            key = self.key(record)
            if key in first_line:
                self.report.error(line, f"{self.describe(record)} repeats line {first_line[key]}")
                continue
            first_line[key] = line
            unique.append((line, key, record))
        return unique

    def compare(
        self, unique: list[tuple[int, Hashable, dict]], found: dict[Hashable, tuple]
    ) -> tuple[list[dict], list[tuple[int, dict]]]:
        """The new records, and the (pk, record) of the stored rows that differ; counts the unchanged."""
        new, changed = [], []
        values_of = self.writer.values_of
        for line, key, record in unique:
            stored = found.get(key)
            if stored is None:
                new.append(record)
                self.created(record)
                continue
            if stored.pk in self.written:
                self.report.error(line, f"{self.describe(record)} repeats an earlier line of this file")
                continue
            self.written.add(stored.pk)
            differences = [
                name for name, old in zip(self.fields, values_of(stored), strict=True) if old != record[name]
            ]
            if not differences:
                self.report.unchanged += 1
                continue
            self.changed(stored, record, differences)
            changed.append((stored.pk, record))
        return new, changed
