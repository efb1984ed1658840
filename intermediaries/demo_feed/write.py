"""The six feed files of a demo scale, streamed straight to disk; nothing touches the ORM."""

import csv
import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from itertools import count
from pathlib import Path

from ..feed import (
    ClientImporter,
    FileImporter,
    FxRateImporter,
    InstrumentImporter,
    PortfolioImporter,
    PriceImporter,
    TransactionImporter,
)
from .book import Book
from .life import plan_for, simulate
from .market import DemoInstrument, Market, instruments_make
from .people import clients_make
from .scales import LARGE_PROFILE, SCALES, SMALL_PROFILE, Profile, period

# The feed's own column lists, so the generator and the importer cannot drift apart.
CLIENT_COLUMNS = ClientImporter.columns
TRANSACTION_COLUMNS = TransactionImporter.columns


def demo_feed_write(*, directory: Path, scale: str, until: date | None = None) -> None:
    """Write the six feed files for `scale` ("small" or "large") into `directory`.

    `until` is the last day of prices and bookings (default: the last business day before today).
    """
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {', '.join(SCALES)}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    start, until = period(until)
    instruments = instruments_make(scale)
    market = Market(start=start, until=until, instruments=instruments)
    _market_files_write(directory, instruments, market)
    _books_write(directory, scale=scale, market=market, start=start, until=until)


@contextmanager
def _csv_open(directory: Path, importer: type[FileImporter]) -> Iterator:
    """A CSV writer for the importer's file, its header written."""
    with (directory / importer.file_name).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(importer.columns)
        yield writer


def _market_files_write(directory: Path, instruments: list[DemoInstrument], market: Market) -> None:
    """instruments.csv, prices.csv and fx_rates.csv: every business day up to `until`."""
    days = market.iso[: market.last + 1]
    with _csv_open(directory, InstrumentImporter) as writer:
        writer.writerows((i.isin, i.name, i.asset_class, i.currency) for i in instruments)
    with _csv_open(directory, PriceImporter) as writer:
        for i in instruments:
            closes = (f"{c:.4f}" for c in market.closes[i.isin][: market.price_days(i.isin)])
            writer.writerows(zip([i.isin] * len(days), days, closes, strict=False))
    with _csv_open(directory, FxRateImporter) as writer:
        for currency, rates in market.rates.items():
            writer.writerows(zip([currency] * len(days), days, (f"{r:.6f}" for r in rates), strict=False))


def _books_write(directory: Path, *, scale: str, market: Market, start: date, until: date) -> None:
    """clients.csv, portfolios.csv and transactions.csv: each client, then each of their portfolios' lives."""
    profile = SMALL_PROFILE if scale == "small" else LARGE_PROFILE
    serials = count(1)
    with (
        _csv_open(directory, ClientImporter) as clients,
        _csv_open(directory, PortfolioImporter) as portfolios,
        _csv_open(directory, TransactionImporter) as transactions,
    ):
        for number, intermediary, person, portfolio_count, rng in clients_make(scale, until):
            client = {"client_number": number, **person, "intermediary_number": intermediary}
            clients.writerow([client[column] for column in CLIENT_COLUMNS])
            handover: dict = {}  # transfers between this client's portfolios, in portfolio order
            for k in range(1, portfolio_count + 1):
                portfolio_number = f"P{number[1:]}-{k:02d}" if scale == "small" else f"LP{next(serials):07d}"
                portfolio = _portfolio_live(
                    portfolio_number,
                    k,
                    rng=rng,
                    market=market,
                    profile=profile,
                    start=start,
                    write=transactions.writerow,
                    handover=handover,
                )
                portfolio["client_number"] = number
                portfolios.writerow([portfolio[column] for column in PortfolioImporter.columns])


def _portfolio_live(
    portfolio_number: str,
    k: int,
    *,
    rng: random.Random,
    market: Market,
    profile: Profile,
    start: date,
    write,
    handover: dict,
) -> dict:
    """Simulate the client's k-th portfolio, writing its bookings; returns its portfolios.csv row (no owner yet)."""
    currency = "USD" if rng.random() < 0.08 else "EUR"
    plan = plan_for(portfolio_number, market)
    if plan is not None:
        currency = "EUR"
    name = "USD-Depot" if currency == "USD" else ("Depot", "Altersvorsorge", "Sparplan")[k - 1]
    opening_month = rng.randrange(min(profile.opening_months, len(market.months) - 1))
    first, last = market.months[opening_month]
    opening = rng.randint(first, min(last, market.last))
    book = Book(market, write, portfolio_number, currency, market.last)
    simulate(
        book,
        rng=random.Random(f"portfolio:{portfolio_number}:{start}"),
        profile=profile,
        opening=opening,
        plan=plan,
        handover=handover,
    )
    return {
        "portfolio_number": portfolio_number,
        "name": name,
        "currency": currency,
        "opened_on": market.iso[opening],
        "status": "closed" if plan is not None and plan.close_month is not None else "open",
    }
