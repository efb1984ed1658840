"""The core system feed: six CSV files from the dealer's core system, validated and imported.

Brokers do not book anything; the core system does and delivers, every night, the files below
(columns in docs/core-feed.md). `core_feed_import()` reads them in dependency order, streams each
file in batches of 5,000 rows (one query finds a batch's existing rows, one inserts the new ones,
one `bulk_update` writes the corrected ones; on PostgreSQL the first two pass whole columns as
arrays) and commits each file in its own transaction. A bad row is reported with file, line and
reason and the rest of its file is still imported; a file whose header is wrong is refused whole.
Every row is matched by its natural key, so importing the same files again changes nothing and a
corrected row updates its record. The report says which portfolios, prices and rates changed and
from which day, so valuations can be recomputed incrementally.

The package:

* `service`: `core_feed_import`, the run (lock, files in order, one transaction each, audit);
* `importer`: what every file does (header, rows, batches: compare and write), `writer` the
  batched lookup, insert and update; `values` the checks of single values; `report` the counts
  and bad rows;
* one module per file: `instruments`, `prices`, `fx_rates`, `clients` (written through the
  `clients` app's service), `portfolios`, `transactions` (with `references`: the checks of
  reversals and of transfers between two portfolios of one client).
"""

# The limits a test may lower are read where they live: `importer.BATCH_SIZE`, `report.MAX_ERRORS_KEPT`.
from .clients import ClientImporter
from .fx_rates import FxRateImporter
from .importer import FileImporter, FileRefused
from .instruments import InstrumentImporter
from .portfolios import PortfolioImporter
from .prices import PriceImporter
from .report import FeedError, FeedReport, ImportReport, Status
from .service import FEED_FILES, FEED_LOCK_KEY, IMPORTERS, FeedImportBusy, core_feed_import
from .transactions import TransactionImporter
from .values import RowError, isin_check_digit, isin_valid

__all__ = [
    "FEED_FILES",
    "FEED_LOCK_KEY",
    "IMPORTERS",
    "ClientImporter",
    "FeedError",
    "FeedImportBusy",
    "FeedReport",
    "FileImporter",
    "FileRefused",
    "FxRateImporter",
    "ImportReport",
    "InstrumentImporter",
    "PortfolioImporter",
    "PriceImporter",
    "RowError",
    "Status",
    "TransactionImporter",
    "core_feed_import",
    "isin_check_digit",
    "isin_valid",
]
