"""The import run: each file in dependency order, each in its own transaction, one at a time."""

import csv
from contextlib import contextmanager
from pathlib import Path

from django.db import connection, transaction

from portal.audit.services import audit_record
from portal.core.versioned_cache import data_changed_on_commit

from .clients import ClientImporter
from .fx_rates import FxRateImporter
from .importer import FileImporter, FileRefused
from .instruments import InstrumentImporter
from .portfolios import PortfolioImporter
from .prices import PriceImporter
from .report import Changes, FeedError, FeedReport, ImportReport, Status
from .transactions import TransactionImporter

# pg_try_advisory_lock key ("PZFE"): two imports at once would race on the same natural keys.
FEED_LOCK_KEY = 0x505A4645

# Each file may refer to rows of the files before it.
IMPORTERS: tuple[type[FileImporter], ...] = (
    InstrumentImporter,
    PriceImporter,
    FxRateImporter,
    ClientImporter,
    PortfolioImporter,
    TransactionImporter,
)
FEED_FILES = tuple(importer.file_name for importer in IMPORTERS)


class FeedImportBusy(Exception):
    """Another import of the core feed holds the lock."""


def _file_import(importer_class: type[FileImporter], path: Path) -> tuple[ImportReport, Changes | None]:
    """One file in one transaction; a refused file rolls back whatever it had written."""
    name = importer_class.file_name
    if not path.is_file():
        return ImportReport(file=name, status=Status.MISSING), None
    report, changes = ImportReport(file=name), Changes()
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

    The run writes one `feed.imported` audit event with the counts per file -- not one per row,
    also not for the clients, whose rows `clients_import` writes batch by batch -- and, whatever
    the files changed, bumps the figures cache after the commit.
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
