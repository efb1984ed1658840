"""The simulated market: the instruments, their closes and the FX rates, on every business day.

Prices are a random walk with drift per instrument, rates one without drift, seeded by the start
month and the ISIN or currency, so the same month gives the same history.
"""

import math
import random
from dataclasses import dataclass
from datetime import date, timedelta

from ..feed import isin_check_digit
from .scales import LARGE

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
# Small scale only, after the others: a share that loses nearly everything and is delisted in the
# given month of the feed (counted from its first month); its holders write it off then.
DELISTED = ("DE", 99, "Kranich Solar AG", "equity", "EUR", 14.0, -1.2, 0.5, 0.0, (), 20)
# Splits: (a word of the instrument's name, month of the feed, new units per unit). On the month's
# first business day the closes fall by the ratio and every holder's quantity grows by it.
SPLITS = (("Nordwerk", 15, 2),)

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


@dataclass(frozen=True)
class DemoInstrument:
    isin: str
    name: str
    asset_class: str
    currency: str
    first_close: float
    drift: float
    volatility: float
    yield_: float
    months: tuple[int, ...]
    delisted_month: int | None = None  # no closes from the day after this month's first business day

    @property
    def whole_units(self) -> bool:
        """Shares and bonds trade in whole units; fund and ETF savings plans buy fractions."""
        return self.asset_class in ("equity", "bond", "commodity")


def isin_make(country: str, serial: int) -> str:
    body = f"{country}PZ{serial:07d}"
    return body + isin_check_digit(body)


def instruments_make(scale: str) -> list[DemoInstrument]:
    """The small scale's 25 instruments; the large scale adds generated ones up to LARGE["instruments"]."""
    instruments = [
        DemoInstrument(isin_make(country, n), *rest) for n, (country, *rest) in enumerate(SMALL_INSTRUMENTS, start=1)
    ]
    if scale == "large":
        rng = random.Random("large-instruments")
        for n in range(len(instruments) + 1, LARGE["instruments"] + 1):
            instruments.append(_large_instrument(rng, n))
    else:
        country, serial, *rest = DELISTED
        instruments.append(DemoInstrument(isin_make(country, serial), *rest))
    return instruments


def _large_instrument(rng: random.Random, n: int) -> DemoInstrument:
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
    return DemoInstrument(isin_make(country, n), name, kind, currency, *terms, *income)


def walk(seed: str, first: float, drift: float, volatility: float, days: int, places: int) -> list[float]:
    """A geometric random walk, one value a business day, rounded as the file will show it."""
    rng = random.Random(seed)
    mu = drift / 252 - volatility**2 / 504
    sigma = volatility / math.sqrt(252)
    value, values = first, []
    for _ in range(days):
        values.append(round(value, places))
        value *= math.exp(mu + sigma * rng.gauss(0, 1))
    return values


class Market:
    """Business days, closes and rates, indexed by the day's position.

    The days run to the end of `until`'s month, so that every month of the simulation is whole;
    `last` is the index of `until`, the last day written to the files.
    """

    def __init__(self, *, start: date, until: date, instruments: list[DemoInstrument]):
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
        # What portfolios pick from: a delisted share only comes into a portfolio by its plan.
        self.listed = [instrument for instrument in instruments if instrument.delisted_month is None]
        self.by_currency: dict[str, list[DemoInstrument]] = {}
        for instrument in self.listed:
            self.by_currency.setdefault(instrument.currency, []).append(instrument)
        self.closes = {
            i.isin: walk(f"{i.isin}:{start}", i.first_close, i.drift, i.volatility, len(self.days), 4)
            for i in instruments
        }
        # Per month, the (isin, ratio) of the splits on its first business day.
        self.splits: dict[int, list[tuple[str, int]]] = {}
        for word, month, ratio in SPLITS:
            isin = next(i.isin for i in instruments if word in i.name)
            first = self.months[month][0]
            self.closes[isin][first:] = [round(close / ratio, 4) for close in self.closes[isin][first:]]
            self.splits.setdefault(month, []).append((isin, ratio))
        self.rates = {
            currency: walk(f"{currency}:{start}", first, 0.0, volatility, len(self.days), 6)
            for currency, (first, volatility) in FX.items()
        }

    def price_days(self, isin: str) -> int:
        """How many of the days have a close of `isin` (a delisted share's end on its delisting day)."""
        month = self.instruments[isin].delisted_month
        return len(self.days) if month is None else self.months[month][0] + 1

    def rate(self, currency: str, index: int) -> float:
        return 1.0 if currency == "EUR" else self.rates[currency][index]

    def unit_value(self, isin: str, currency: str, index: int) -> float:
        """One unit of `isin` in `currency` on day `index`."""
        instrument = self.instruments[isin]
        close = self.closes[isin][index]
        if instrument.currency == currency:
            return close
        return close / self.rate(instrument.currency, index) * self.rate(currency, index)
