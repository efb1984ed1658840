"""Demo feeds: the files the core system would deliver, for the small demo and the large benchmark.

`demo_feed_write(directory=…, scale="small"|"large")` writes the six CSV files of docs/core-feed.md.
Everything is simulated, streamed straight to the files and never touches the ORM:

- prices are a random walk with drift per instrument, on business days from the first day of the
  month three years ago until yesterday;
- each portfolio is simulated month by month (cash in cents, positions in thousandths of a unit),
  so a sale never exceeds the position and a buy never exceeds the cash.

The random generators are seeded by the start month and the ISIN or portfolio number, so within
one calendar month a new run writes the same history plus the new days: importing it again only
creates the new rows. Identifiers never collide between scales (the large feed's numbers begin
with L), and the large feed's first instruments are the small feed's, with the same prices.
"""

import csv
import math
import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from portal.accounts.models import User

from .feed import ClientImporter, TransactionImporter, core_feed_import, isin_check_digit
from .models import Intermediary

SCALES = ("small", "large")
YEARS = 3
DIVIDEND_TAX = 0.26375  # German flat tax with solidarity surcharge

# (country, name, asset class, currency, first close, yearly drift, yearly volatility, yield, paying months)
SMALL_INSTRUMENTS = [
    ("DE", "Nordwerk Industrie AG", "equity", "EUR", 84.0, 0.06, 0.24, 0.028, (5,)),
    ("DE", "Hanse Logistik AG", "equity", "EUR", 41.5, 0.04, 0.28, 0.035, (6,)),
    ("DE", "Bavaria Energie SE", "equity", "EUR", 23.8, 0.03, 0.22, 0.045, (5,)),
    ("DE", "Rhein Chemie AG", "equity", "EUR", 57.2, 0.02, 0.26, 0.04, (4,)),
    ("DE", "Elbtal Software SE", "equity", "EUR", 132.0, 0.12, 0.34, 0.008, (6,)),
    ("FR", "Société Lumière SA", "equity", "EUR", 66.4, 0.05, 0.23, 0.03, (5,)),
    ("ES", "Iberia Renovables SA", "equity", "EUR", 18.9, 0.07, 0.3, 0.025, (7,)),
    ("IT", "Lago Banca SpA", "equity", "EUR", 9.7, 0.05, 0.3, 0.06, (4,)),
    ("CH", "Alpina Pharma AG", "equity", "CHF", 245.0, 0.05, 0.18, 0.03, (3,)),
    ("CH", "Helvetia Uhren AG", "equity", "CHF", 118.0, 0.04, 0.25, 0.02, (5,)),
    ("CH", "Matterhorn Nahrungsmittel AG", "equity", "CHF", 96.5, 0.03, 0.15, 0.032, (4,)),
    ("US", "Pacific Semiconductor Inc.", "equity", "USD", 142.0, 0.15, 0.38, 0.006, (3, 6, 9, 12)),
    ("US", "Great Lakes Health Corp.", "equity", "USD", 88.0, 0.06, 0.2, 0.022, (3, 6, 9, 12)),
    ("US", "Sierra Cloud Systems Inc.", "equity", "USD", 310.0, 0.14, 0.33, 0.0, ()),
    ("US", "Atlantic Consumer Brands Inc.", "equity", "USD", 61.0, 0.04, 0.17, 0.03, (3, 6, 9, 12)),
    ("IE", "World Equity UCITS ETF (Acc)", "etf", "EUR", 78.0, 0.07, 0.15, 0.0, ()),
    ("IE", "S&P 500 Tracker UCITS ETF (Dist)", "etf", "USD", 452.0, 0.08, 0.17, 0.014, (3, 6, 9, 12)),
    ("LU", "Euro Stoxx 50 Index ETF (Dist)", "etf", "EUR", 44.0, 0.05, 0.18, 0.028, (6, 12)),
    ("IE", "Emerging Markets UCITS ETF (Acc)", "etf", "EUR", 31.5, 0.04, 0.2, 0.0, ()),
    ("LU", "Mittelstand Aktienfonds A", "fund", "EUR", 182.0, 0.05, 0.19, 0.015, (11,)),
    ("LU", "Global Balanced Fund R", "fund", "EUR", 54.3, 0.03, 0.09, 0.02, (11,)),
    ("DE", "Bund 2.30% 2033", "bond", "EUR", 98.4, 0.0, 0.05, 0.023, (2,)),
    ("DE", "Hanse Logistik 4.125% 2029", "bond", "EUR", 101.2, 0.0, 0.06, 0.04125, (9,)),
    ("US", "US Treasury 4.00% 2031", "bond", "USD", 97.6, 0.0, 0.06, 0.04, (8,)),
    ("DE", "Physical Gold ETC", "commodity", "EUR", 58.0, 0.06, 0.15, 0.0, ()),
]
FX = {"USD": (1.08, 0.07), "CHF": (0.96, 0.06)}  # first rate per EUR, yearly volatility

FIRST_NAMES = [
    "Anna", "Lukas", "Sophie", "Jonas", "Marie", "Felix", "Lena", "Paul", "Emma", "Maximilian",
    "Hannah", "Leon", "Julia", "Tobias", "Laura", "Moritz", "Sarah", "Niklas", "Lea", "Jan",
    "Katharina", "Florian", "Johanna", "Sebastian", "Elena", "Dmitri", "Olga", "Sergei", "Irina",
    "Mehmet", "Ayşe", "Giulia", "Marco", "Sofia", "Pierre", "Camille", "Lars", "Ingrid", "Tomasz",
    "Agnieszka",
]  # fmt: skip
LAST_NAMES = [
    "Müller", "Schneider", "Fischer", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann", "Koch",
    "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann", "Braun", "Krüger",
    "Hofmann", "Hartmann", "Lange", "Schmitt", "Werner", "Krause", "Meier", "Lehmann", "Köhler",
    "Herrmann", "König", "Walter", "Mayer", "Huber", "Kaiser", "Fuchs", "Peters", "Lang", "Scholz",
    "Möller", "Weiß", "Jung", "Hahn", "Keller", "Vogel", "Petrov", "Smirnova", "Yılmaz", "Rossi",
    "Dubois", "Nilsson", "Kowalski",
]  # fmt: skip
STREETS = [
    "Hauptstraße", "Schulstraße", "Gartenstraße", "Bahnhofstraße", "Lindenstraße", "Bergstraße",
    "Kirchweg", "Am Markt", "Rosenweg", "Goethestraße", "Schillerstraße", "Mozartstraße",
    "Waldstraße", "Ringstraße", "Feldweg",
]  # fmt: skip
CITIES = [
    ("10115", "Berlin", "DE"), ("20095", "Hamburg", "DE"), ("80331", "München", "DE"),
    ("50667", "Köln", "DE"), ("60311", "Frankfurt am Main", "DE"), ("70173", "Stuttgart", "DE"),
    ("40213", "Düsseldorf", "DE"), ("04109", "Leipzig", "DE"), ("01067", "Dresden", "DE"),
    ("90402", "Nürnberg", "DE"), ("28195", "Bremen", "DE"), ("30159", "Hannover", "DE"),
    ("1010", "Wien", "AT"), ("5020", "Salzburg", "AT"), ("8001", "Zürich", "CH"), ("4051", "Basel", "CH"),
]  # fmt: skip

# Large scale: more instruments, named from these parts.
NAME_PARTS = [
    "Nord", "Süd", "Ost", "West", "Rhein", "Elb", "Alpen", "Hanse", "Donau", "Main", "Isar", "Weser",
    "Baltic", "Atlantic", "Pacific", "Sierra", "Helvetia", "Iberia", "Nordic", "Boreal",
]  # fmt: skip
SECTORS = [
    "Industrie", "Energie", "Pharma", "Software", "Logistik", "Chemie", "Bau", "Versicherung", "Bank",
    "Automobil", "Textil", "Medien", "Immobilien", "Telekom", "Stahl",
]  # fmt: skip
LEGAL_FORMS = {"EUR": ("DE", "AG"), "USD": ("US", "Inc."), "CHF": ("CH", "AG")}

LARGE = {"instruments": 300, "intermediaries": 500, "clients": 50_000, "transactions": 2_000_000}


@dataclass(frozen=True)
class _Instrument:
    isin: str
    name: str
    asset_class: str
    currency: str
    first_close: float
    drift: float
    volatility: float
    yield_: float
    months: tuple[int, ...]

    @property
    def whole_units(self) -> bool:
        """Shares and bonds trade in whole units; fund and ETF savings plans buy fractions."""
        return self.asset_class in ("equity", "bond", "commodity")


@dataclass(frozen=True)
class _Profile:
    """How busy a scale's portfolios are; tuned so the large feed has about 2,000,000 transactions."""

    opening_months: int  # portfolios open within this many months of the start
    saver_share: float  # share of portfolios with a monthly savings plan
    trade_chance: float  # chance of a discretionary trade in a month
    top_up_chance: float
    withdrawal_chance: float
    transfer_chance: float  # chance a portfolio starts with securities transferred in


SMALL_PROFILE = _Profile(9, 0.5, 0.18, 0.04, 0.015, 0.0)
LARGE_PROFILE = _Profile(30, 0.08, 0.07, 0.03, 0.012, 0.01)


def isin_make(country: str, serial: int) -> str:
    body = f"{country}PZ{serial:07d}"
    return body + isin_check_digit(body)


def _instruments(scale: str) -> list[_Instrument]:
    instruments = [
        _Instrument(isin_make(country, n), *rest) for n, (country, *rest) in enumerate(SMALL_INSTRUMENTS, start=1)
    ]
    if scale == "large":
        rng = random.Random("large-instruments")
        for n in range(len(instruments) + 1, LARGE["instruments"] + 1):
            currency = rng.choices(("EUR", "USD", "CHF"), weights=(65, 20, 15))[0]
            country, legal = LEGAL_FORMS[currency]
            kind = rng.choices(("equity", "etf", "fund", "bond", "commodity"), weights=(70, 12, 8, 8, 2))[0]
            base = f"{NAME_PARTS[n % len(NAME_PARTS)]}{SECTORS[(n // len(NAME_PARTS)) % len(SECTORS)].lower()}"
            if kind == "equity":
                name = f"{base} {legal}"
                terms = (rng.uniform(8, 300), rng.uniform(-0.02, 0.14), rng.uniform(0.15, 0.4))
                income = (round(rng.uniform(0, 0.05), 3), (rng.randint(3, 7),))
            elif kind == "bond":
                coupon = rng.choice((1.5, 2.25, 3.0, 3.5, 4.125, 4.75))
                name = f"{base} {coupon:.3f}% {rng.randint(2027, 2036)}"
                terms = (rng.uniform(95, 104), 0.0, 0.05)
                income = (coupon / 100, (rng.randint(1, 12),))
            elif kind == "commodity":
                name = f"{base} Metals ETC"
                terms = (rng.uniform(20, 120), 0.04, 0.2)
                income = (0.0, ())
            else:
                label = "UCITS ETF" if kind == "etf" else "Fonds"
                distributing = rng.random() < 0.5
                name = f"{base} {label} ({'Dist' if distributing else 'Acc'})"
                terms = (rng.uniform(20, 250), rng.uniform(0.02, 0.09), rng.uniform(0.1, 0.22))
                income = (0.02, (6, 12)) if distributing else (0.0, ())
            instruments.append(_Instrument(isin_make(country, n), name, kind, currency, *terms, *income))
    return instruments


def _walk(seed: str, first: float, drift: float, volatility: float, days: int, places: int) -> list[float]:
    """A geometric random walk, one value a business day, rounded as the file will show it."""
    rng = random.Random(seed)
    mu = drift / 252 - volatility**2 / 504
    sigma = volatility / math.sqrt(252)
    value, values = first, []
    for _ in range(days):
        values.append(round(value, places))
        value *= math.exp(mu + sigma * rng.gauss(0, 1))
    return values


class _Market:
    """Business days, closes and rates, indexed by the day's position.

    The days run to the end of `until`'s month, so that every month of the simulation is whole;
    `last` is the index of `until`, the last day written to the files.
    """

    def __init__(self, *, start: date, until: date, instruments: list[_Instrument]):
        month_end = (until.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        self.days = [start + timedelta(n) for n in range((month_end - start).days + 1)]
        self.days = [day for day in self.days if day.weekday() < 5]
        self.last = self.days.index(until)
        self.iso = [day.isoformat() for day in self.days]
        self.months: list[tuple[int, int]] = []  # (first index, last index) per calendar month
        for index, day in enumerate(self.days):
            if index == 0 or day.month != self.days[index - 1].month:
                self.months.append((index, index))
            else:
                self.months[-1] = (self.months[-1][0], index)
        self.instruments = {instrument.isin: instrument for instrument in instruments}
        self.by_currency: dict[str, list[_Instrument]] = {}
        for instrument in instruments:
            self.by_currency.setdefault(instrument.currency, []).append(instrument)
        self.closes = {
            i.isin: _walk(f"{i.isin}:{start}", i.first_close, i.drift, i.volatility, len(self.days), 4)
            for i in instruments
        }
        self.rates = {
            currency: _walk(f"{currency}:{start}", first, 0.0, volatility, len(self.days), 6)
            for currency, (first, volatility) in FX.items()
        }

    def rate(self, currency: str, index: int) -> float:
        return 1.0 if currency == "EUR" else self.rates[currency][index]

    def unit_value(self, isin: str, currency: str, index: int) -> float:
        """One unit of `isin` in `currency` on day `index`."""
        instrument = self.instruments[isin]
        close = self.closes[isin][index]
        if instrument.currency == currency:
            return close
        return close / self.rate(instrument.currency, index) * self.rate(currency, index)


def _quantity(milli: int) -> str:
    if milli % 1000 == 0:
        return str(milli // 1000)
    return f"{milli // 1000}.{milli % 1000:03d}".rstrip("0")


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _fee(cents: int) -> int:
    """0.25 % of the trade, at least 4.90 and at most 49.90."""
    return max(490, min(4990, round(cents * 0.0025)))


@dataclass
class _Book:
    """One portfolio simulated forward: cash in cents, positions as [thousandths, cost in cents]."""

    market: _Market
    write: Callable
    number: str
    currency: str
    last: int  # index of the last day to write; later events are simulated but not written
    cash: int = 0
    positions: dict[str, list[int]] = field(default_factory=dict)
    sequence: int = 0
    written: int = 0

    def emit(self, index: int, kind: str, isin: str = "", milli: int = 0, price: float | None = None, cents=0):
        # The number counts every event, written or not, so a row keeps its id when later days are added.
        self.sequence += 1
        if index > self.last:
            return
        self.written += 1
        self.write(
            (
                f"{self.number}-{self.sequence:04d}",
                self.number,
                kind,
                self.market.iso[index],
                isin,
                _quantity(milli) if milli else "",
                "" if price is None else f"{price:.4f}",
                _money(cents),
                self.currency,
            )
        )

    def deposit(self, index: int, cents: int) -> None:
        self.cash += cents
        self.emit(index, "deposit", cents=cents)

    def withdraw(self, index: int, cents: int) -> None:
        cents = min(cents, self.cash)
        if cents > 0:
            self.cash -= cents
            self.emit(index, "withdrawal", cents=cents)

    def buy(self, index: int, isin: str, budget: int, *, fee: bool = True) -> int:
        charge = _fee(budget) if fee else 0
        budget = min(budget, self.cash - charge)
        unit = self.market.unit_value(isin, self.currency, index)
        exact = budget / 100 / unit
        milli = int(exact) * 1000 if self.market.instruments[isin].whole_units else int(exact * 1000)
        if milli <= 0:
            return 0
        cents = round(milli * unit / 10)
        charge = _fee(cents) if fee else 0
        self.cash -= cents + charge
        position = self.positions.setdefault(isin, [0, 0])
        position[0] += milli
        position[1] += cents
        self.emit(index, "buy", isin, milli, self.market.closes[isin][index], cents)
        if charge:
            self.emit(index, "fee", cents=charge)
        return milli

    def sell(self, index: int, isin: str, milli: int | None = None) -> None:
        held, cost = self.positions[isin]
        milli = held if milli is None else min(milli, held)
        if milli <= 0:
            return
        cents = round(milli * self.market.unit_value(isin, self.currency, index) / 10)
        sold_cost = round(cost * milli / held)
        self._reduce(isin, milli, sold_cost)
        charge = _fee(cents)
        self.cash += cents - charge
        self.emit(index, "sell", isin, milli, self.market.closes[isin][index], cents)
        self.emit(index, "fee", cents=charge)
        gain = cents - charge - sold_cost
        if gain > 0:
            self.cash -= round(gain * DIVIDEND_TAX)
            self.emit(index, "tax", cents=round(gain * DIVIDEND_TAX))

    def _reduce(self, isin: str, milli: int, cost: int) -> None:
        position = self.positions[isin]
        position[0] -= milli
        position[1] -= cost
        if position[0] <= 0:
            del self.positions[isin]

    def pay_income(self, index: int, isin: str, milli: int, per_unit: float) -> None:
        """A dividend or coupon for the units held on the ex-day, which may since have been sold."""
        instrument = self.market.instruments[isin]
        amount = milli / 1000 * per_unit
        cents = round(
            amount / self.market.rate(instrument.currency, index) * self.market.rate(self.currency, index) * 100
        )
        if cents <= 0:
            return
        self.cash += cents
        kind = "interest" if instrument.asset_class == "bond" else "dividend"
        self.emit(index, kind, isin, milli, per_unit, cents)
        tax = round(cents * DIVIDEND_TAX)
        if tax:
            self.cash -= tax
            self.emit(index, "tax", cents=tax)

    def transfer_in(self, index: int, isin: str, milli: int) -> None:
        cents = round(milli * self.market.unit_value(isin, self.currency, index) / 10)
        position = self.positions.setdefault(isin, [0, 0])
        position[0] += milli
        position[1] += cents
        self.emit(index, "transfer_in", isin, milli, self.market.closes[isin][index], cents)

    def transfer_out(self, index: int, isin: str) -> None:
        milli, cost = self.positions[isin]
        cents = round(milli * self.market.unit_value(isin, self.currency, index) / 10)
        self._reduce(isin, milli, cost)
        self.emit(index, "transfer_out", isin, milli, self.market.closes[isin][index], cents)


@dataclass
class _Plan:
    """Scripted moments for a named demo portfolio, so the demo shows every case the valuation handles."""

    initial: tuple[str, ...] = ()  # instruments bought (or transferred in) on opening
    transfer_in: bool = False
    day_trade_month: int | None = None  # buy and sell the same instrument on one day
    sell_after_ex_from: int | None = None  # from this month, sell a dividend payer between ex-day and pay day
    empty_month: int | None = None  # sell everything and withdraw all cash ...
    refill_month: int | None = None  # ... and start again
    transfer_out_month: int | None = None
    close_month: int | None = None  # sell everything, withdraw, never come back


def _simulate(book: _Book, *, rng: random.Random, profile: _Profile, opening: int, plan: _Plan | None = None):
    """A portfolio's life from its opening day: savings plans, trades, income, deposits and withdrawals.

    Within a month the events happen in date order (savings on the first business day, income on
    the 6th and 9th, a trade after that, top-ups and withdrawals on the last), so cash and
    positions are always those of the day.
    """
    market = book.market
    scripted = plan is not None
    plan = plan or _Plan()
    # Mostly instruments in the portfolio's currency, and a fifth of the others.
    others = [i for i in market.instruments.values() if i.currency != book.currency]
    universe = market.by_currency.get(book.currency, []) + rng.sample(others, len(others) // 5)
    plans = [i.isin for i in universe if i.asset_class in ("etf", "fund")] or [universe[0].isin]
    saver = rng.random() < profile.saver_share
    savings = rng.choice((50, 100, 150, 200, 250, 300, 500, 750, 1000)) * 100
    savings_isin = rng.choice(plans)
    start_month = next(m for m, (first, last) in enumerate(market.months) if first <= opening <= last)
    paused = False
    sell_after_ex = plan.sell_after_ex_from

    # Opening: a deposit and a handful of buys, or securities transferred in from another bank.
    book.deposit(opening, int(rng.lognormvariate(math.log(25_000), 0.9)) * 100)
    initial = list(plan.initial) or [i.isin for i in rng.sample(universe, min(len(universe), rng.randint(2, 5)))]
    if plan.transfer_in or rng.random() < profile.transfer_chance:
        for isin in initial[:2]:
            book.transfer_in(opening, isin, rng.randint(20, 200) * 1000)
        initial = initial[2:]
    for isin in initial:
        book.buy(opening, isin, int(book.cash * 0.8 / max(len(initial), 1)))

    for month in range(start_month, len(market.months)):
        first, last = market.months[month]
        calendar_month = market.days[first].month
        if month == plan.refill_month:
            paused = False
            book.deposit(first, 15_000_00)
            for isin in initial[:3] or [savings_isin]:
                book.buy(first + 1, isin, 4_000_00)
        if paused:
            continue

        if saver and month > start_month:
            book.deposit(first, savings)
            book.buy(first, savings_isin, savings, fee=False)

        # Income: ex-day on the 6th business day, paid three business days later.
        ex_day, pay_day = first + 5, first + 8
        entitlements = [
            (isin, milli)
            for isin, (milli, _) in book.positions.items()
            if calendar_month in market.instruments[isin].months and ex_day > opening
        ]
        sold_after_ex = False
        payers = [isin for isin, _ in entitlements if market.instruments[isin].asset_class != "bond"]
        if sell_after_ex is not None and month >= sell_after_ex and payers:
            book.sell(ex_day + 1, payers[0])
            sold_after_ex, sell_after_ex = True, None
        for isin, milli in entitlements:
            instrument = market.instruments[isin]
            if instrument.asset_class == "bond":
                per_unit = round(100 * instrument.yield_, 4)
            else:
                per_unit = round(market.closes[isin][ex_day] * instrument.yield_ / len(instrument.months), 4)
            book.pay_income(pay_day, isin, milli, per_unit)
        if sold_after_ex:
            book.buy(pay_day + 1, savings_isin, book.cash // 2)

        if month in (plan.empty_month, plan.close_month):
            for isin in sorted(book.positions):
                book.sell(first + 12, isin)
            book.withdraw(last, book.cash)
            paused = True
            continue

        day = rng.randint(max(pay_day + 1, opening), last)
        if month == plan.day_trade_month:
            isin = next(i.isin for i in universe if i.asset_class == "equity")
            milli = book.buy(day, isin, min(book.cash // 3, 5_000_00))
            book.sell(day, isin, milli)
        elif rng.random() < profile.trade_chance:
            # Scripted portfolios keep their positions for their scripted moments.
            if book.positions and rng.random() < 0.4 and not scripted:
                isin = rng.choice(sorted(book.positions))
                held = book.positions[isin][0]
                book.sell(day, isin, held if rng.random() < 0.3 else max(held // 2000 * 1000, 1000))
            elif book.cash > 1_000_00:
                book.buy(day, rng.choice(universe).isin, int(book.cash * rng.uniform(0.3, 0.9)))
        if rng.random() < profile.top_up_chance:
            book.deposit(last, rng.choice((1_000, 2_500, 5_000, 10_000)) * 100)
        if rng.random() < profile.withdrawal_chance and book.cash > 0:
            book.withdraw(last, int(book.cash * rng.uniform(0.2, 0.6)))
        if month == plan.transfer_out_month and book.positions:
            book.transfer_out(last, sorted(book.positions)[0])


# --- Clients and portfolios -------------------------------------------------------------------------

# (client number, first name, last name, e-mail, phone, intermediary number)
NAMED_CLIENTS = {
    "C0001": ("Clara", "Schmidt", "client1@example.com", "+4915100000011", "B0001"),
    "C0002": ("Carl", "Weber", "client2@example.com", "+4915100000012", "B0001"),
    "C0003": ("Katya", "Ivanova", "client3@example.com", "+4915100000013", "B0003"),
}
# Small scale: which broker gets which clients (12, 8 and 6).
SMALL_BOOKS = {"B0001": 12, "B0002": 8, "B0003": 6}
# Named portfolios with scripted moments (month numbers count from the feed's first month).
PLANS = {
    "P0001-01": _Plan(
        initial=("Nordwerk", "Hanse Logistik AG", "World Equity"), day_trade_month=10, sell_after_ex_from=12
    ),
    "P0002-01": _Plan(empty_month=14, refill_month=17),
    "P0003-01": _Plan(transfer_in=True, transfer_out_month=20),
    "P0004-02": _Plan(close_month=24),
}


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower().replace(" ", "")


def _person(rng: random.Random, number: str, until: date) -> dict:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    postcode, city, country = rng.choice(CITIES)
    return {
        "first_name": first,
        "last_name": last,
        "email": f"{_ascii(first)}.{_ascii(last)}.{number.lower()}@example.org",
        "phone": f"+49151{rng.randint(10_000_000, 99_999_999)}",
        "street": f"{rng.choice(STREETS)} {rng.randint(1, 120)}",
        "postcode": postcode,
        "city": city,
        "country": country,
        "birth_date": (until - timedelta(days=rng.randint(20 * 365, 85 * 365))).isoformat(),
        "status": "active",
    }


# The feed's own column lists, so the generator and the importer cannot drift apart.
CLIENT_COLUMNS = ClientImporter.columns
TRANSACTION_COLUMNS = TransactionImporter.columns


def _resolve_plan_instruments(plan: _Plan, market: _Market) -> _Plan:
    """Plans name instruments by a word of their name; the feed needs ISINs."""
    if not plan.initial:
        return plan
    by_name = [next(i.isin for i in market.instruments.values() if word in i.name) for word in plan.initial]
    return _Plan(**{**plan.__dict__, "initial": tuple(by_name)})


def _clients(scale: str, until: date):
    """(client number, intermediary number, person, portfolio count, rng seed) for the scale."""
    if scale == "small":
        intermediaries = [number for number, count in SMALL_BOOKS.items() for _ in range(count)]
        # The named clients first, then the rest of each book in order.
        for *_, intermediary in NAMED_CLIENTS.values():
            intermediaries.remove(intermediary)
        assigned = [(number, data[-1]) for number, data in NAMED_CLIENTS.items()]
        assigned += [(f"C{n:04d}", b) for n, b in enumerate(intermediaries, start=len(NAMED_CLIENTS) + 1)]
        for number, intermediary in assigned:
            rng = random.Random(f"client:{number}")
            person = _person(rng, number, until)
            if number in NAMED_CLIENTS:
                first, last, email, phone, _ = NAMED_CLIENTS[number]
                person.update(first_name=first, last_name=last, email=email, phone=phone)
            yield number, intermediary, person, rng.choice((1, 1, 2, 2, 3)) if number != "C0004" else 2, rng
    else:
        brokers = LARGE["intermediaries"]
        # Books of very different sizes, as in life: a few brokers have many clients.
        weights = [1 / (n**0.6) for n in range(1, brokers + 1)]
        chooser = random.Random("large-books")
        for n in range(1, LARGE["clients"] + 1):
            number = f"LC{n:06d}"
            rng = random.Random(f"client:{number}")
            broker = chooser.choices(range(1, brokers + 1), weights=weights)[0]
            yield number, f"L{broker:04d}", _person(rng, number, until), 1 if rng.random() < 0.6 else 2, rng


def _period(until: date | None) -> tuple[date, date]:
    """From the first day of the month three years ago until the last business day before today."""
    if until is None:
        until = timezone.localdate() - timedelta(days=1)
    while until.weekday() >= 5:
        until -= timedelta(days=1)
    month = until.year * 12 + until.month - 1 - YEARS * 12
    return date(month // 12, month % 12 + 1, 1), until


def demo_feed_write(*, directory: Path, scale: str, until: date | None = None) -> None:
    """Write the six feed files for `scale` ("small" or "large") into `directory`.

    `until` is the last day of prices and bookings (default: the last business day before today).
    """
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {', '.join(SCALES)}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    start, until = _period(until)
    instruments = _instruments(scale)
    market = _Market(start=start, until=until, instruments=instruments)
    profile = SMALL_PROFILE if scale == "small" else LARGE_PROFILE

    def open_csv(name: str, header: tuple[str, ...]):
        handle = (directory / name).open("w", encoding="utf-8", newline="")
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        return handle, writer

    handle, writer = open_csv("instruments.csv", ("isin", "name", "asset_class", "currency"))
    with handle:
        writer.writerows((i.isin, i.name, i.asset_class, i.currency) for i in instruments)
    handle, writer = open_csv("prices.csv", ("isin", "date", "close"))
    with handle:
        days = market.iso[: market.last + 1]
        for i in instruments:
            writer.writerows(zip([i.isin] * len(days), days, (f"{c:.4f}" for c in market.closes[i.isin]), strict=False))
    handle, writer = open_csv("fx_rates.csv", ("currency", "date", "rate"))
    with handle:
        for currency, rates in market.rates.items():
            writer.writerows(zip([currency] * len(days), days, (f"{r:.6f}" for r in rates), strict=False))

    client_handle, clients = open_csv("clients.csv", CLIENT_COLUMNS)
    portfolio_handle, portfolios = open_csv(
        "portfolios.csv", ("portfolio_number", "client_number", "name", "currency", "opened_on", "status")
    )
    transaction_handle, transactions = open_csv("transactions.csv", TRANSACTION_COLUMNS)
    with client_handle, portfolio_handle, transaction_handle:
        portfolio_serial = 0
        for number, intermediary, person, count, rng in _clients(scale, until):
            clients.writerow((number, *person.values(), intermediary))
            for k in range(1, count + 1):
                portfolio_serial += 1
                small = scale == "small"
                portfolio_number = f"P{number[1:]}-{k:02d}" if small else f"LP{portfolio_serial:07d}"
                currency = "USD" if rng.random() < 0.08 else "EUR"
                plan = PLANS.get(portfolio_number)
                if plan is not None:
                    currency = "EUR"
                    plan = _resolve_plan_instruments(plan, market)
                name = ("Depot", "Altersvorsorge", "Sparplan")[k - 1]
                if currency == "USD":
                    name = "USD-Depot"
                opening_month = rng.randrange(min(profile.opening_months, len(market.months) - 1))
                first, last = market.months[opening_month]
                opening = rng.randint(first, min(last, market.last))
                book_rng = random.Random(f"portfolio:{portfolio_number}:{start}")
                book = _Book(market, transactions.writerow, portfolio_number, currency, market.last)
                _simulate(book, rng=book_rng, profile=profile, opening=opening, plan=plan)
                status = "closed" if plan is not None and plan.close_month is not None else "open"
                portfolios.writerow((portfolio_number, number, name, currency, market.iso[opening], status))


# --- Intermediaries and loading for the demo --------------------------------------------------------

DEMO_CAST_INTERMEDIARIES = {
    "broker1@example.com": "B0001",
    "broker2@example.com": "B0002",
    "broker3@example.com": "B0003",
}


def intermediaries_ensure_for_demo_cast() -> int:
    """Give broker1-3@example.com their core-system numbers B0001-B0003, if those users exist.

    Returns how many were created; running it again creates none.
    """
    created = 0
    users = User.objects.filter(email__in=DEMO_CAST_INTERMEDIARIES, organisation__isnull=False)
    with transaction.atomic():
        for user in users:
            _, was_created = Intermediary.objects.get_or_create(
                user=user, defaults={"number": DEMO_CAST_INTERMEDIARIES[user.email], "firm_id": user.organisation_id}
            )
            created += was_created
    return created


def large_intermediaries_ensure() -> int:
    """Give every large-broker-NNNN@example.com the number LNNNN, its firm being its organisation."""
    users = User.objects.filter(
        email__startswith="large-broker-", organisation__isnull=False, intermediary__isnull=True
    ).values_list("id", "email", "organisation_id")
    rows = [
        Intermediary(user_id=user_id, number=f"L{email.removeprefix('large-broker-').split('@')[0]}", firm_id=firm_id)
        for user_id, email, firm_id in users
    ]
    with transaction.atomic():
        Intermediary.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    return len(rows)


def demo_feed_load(*, scale: str, directory: Path, stdout=None) -> list:
    """For `manage.py demo`: numbers for the brokers, fresh feeds under `directory`, and their import.

    The small feed is always loaded (the named cast's clients); the large scale adds the large feed.
    Returns the FeedReport of each import.
    """
    intermediaries_ensure_for_demo_cast()
    if scale == "large":
        large_intermediaries_ensure()
    reports = []
    for feed_scale in ("small", "large") if scale == "large" else ("small",):
        feed_directory = Path(directory) / feed_scale
        demo_feed_write(directory=feed_directory, scale=feed_scale)
        report = core_feed_import(directory=feed_directory)
        reports.append(report)
        if stdout:
            for file_report in report.files:
                counts = file_report.summary()
                stdout.write(
                    f"Core feed ({feed_scale}) {file_report.file}: {counts['created']} created, "
                    f"{counts['updated']} updated, {counts['unchanged']} unchanged, {counts['errors']} bad rows"
                )
    return reports
