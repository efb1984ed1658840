"""What an import did: per file the rows created, updated and unchanged and every bad row; per run
what changed for the valuations (which portfolios, prices and rates, from which day)."""

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import NamedTuple

# A feed that is wrong from top to bottom would otherwise hold millions of messages in memory.
MAX_ERRORS_KEPT = 10_000


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


def earliest(dates: dict, key, day: date) -> None:
    """Note `day` for `key`, keeping the earliest day noted."""
    if key not in dates or day < dates[key]:
        dates[key] = day


@dataclass
class Changes:
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

    def merge(self, changes: Changes) -> None:
        for target, source in (
            (self.affected_portfolios, changes.portfolios),
            (self.price_changes, changes.prices),
            (self.fx_changes, changes.fx),
        ):
            for key, day in source.items():
                earliest(target, key, day)
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
