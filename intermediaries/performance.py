"""Portfolio valuation and performance arithmetic, in pure Python.

Nothing here touches the ORM or the database: the valuation service loads rows, turns them into
the plain dataclasses below, calls these functions and stores what they return. That keeps the
arithmetic fast (a full replay of years of bookings is a single pass) and testable by hand.

Conventions
-----------
* Money, quantities, prices, rates and returns are `decimal.Decimal`, never float. Every public
  function computes in a local decimal context with 28 significant digits. The aggregates and period
  figures do not round their results; storing (and quantizing to the model's decimal places) is
  the caller's job.
* `value_portfolio` is the exception, on purpose: what it carries from one day to the next is kept
  at the precision `Valuation` and `Holding` store it with. Every booking moves cash, flows and
  cost by whole cents of the portfolio currency (converted, then rounded: as on a statement);
  each day's market value is rounded to the cent and the index to 12 decimal places; the daily
  return itself is not rounded, quantities never are. So a stored day is a complete state: a
  `ResumeState` built from it continues the replay and gives the same figures, to the last digit,
  as a replay from the first booking.
* FX rates follow `intermediaries.models.FxRate`: units of a currency per 1 EUR; EUR is always 1.
  An amount in currency A on day d becomes `amount / rate_A(d) * rate_P(d)` in currency P.
* Valuation days are Monday to Friday from the first booking to `until`, plus any weekend day
  that carries a booking. Prices and rates missing on a valuation day are carried forward and the
  day is flagged, so weekend bookings usually come with STALE_PRICE / MISSING_FX.
* Flags use the bit values of `Valuation.Flag`, plus SHORT_POSITION (64), which this module adds:
  a sale or transfer out of more than was held leaves a negative quantity; the replay goes on
  (the short position is valued at quantity x close, i.e. negatively) and flags the day.

Time-weighted return (chain-linked daily):

    r_t = (V_t + Out_t) / (V_{t-1} + In_t) - 1          twr_index_t = twr_index_{t-1} * (1 + r_t)

Inflows (deposit, transfer in) count at the start of the day, outflows (withdrawal, transfer out)
at the end. Dividends, interest, fees and taxes are not flows: they are performance. When the day
starts with nothing (`V_{t-1} + In_t <= 0`) the return is undefined; it is taken as 0 and the day
is flagged NO_START_VALUE.
"""

from __future__ import annotations

import bisect
import calendar
import decimal
import enum
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

__all__ = [
    "BASE_CURRENCY",
    "DayValue",
    "Flag",
    "HoldingSpan",
    "PerformanceInputError",
    "PortfolioHistory",
    "ResumePosition",
    "ResumeState",
    "Txn",
    "TxnType",
    "aggregate",
    "annualise",
    "fallback_prices",
    "mwr",
    "period_bounds",
    "resume_state",
    "twr",
    "value_portfolio",
    "xirr",
]

BASE_CURRENCY = "EUR"
PRECISION = 28

ZERO = Decimal(0)
ONE = Decimal(1)
# The stored precision (`Valuation`, `Holding`): what the replay carries from day to day.
CENT = Decimal("0.01")
INDEX_PLACES = Decimal("0.000000000001")

PriceSeries = Sequence[tuple[date, Decimal]]
RateSeries = Sequence[tuple[date, Decimal]]


class PerformanceInputError(ValueError):
    """The inputs cannot be valued: a missing FX rate, an unknown booking type, a bad booking."""


class Flag(enum.IntFlag):
    """Bits of `DayValue.flags`; the first six are `intermediaries.models.Valuation.Flag`."""

    STALE_PRICE = 1  # a held instrument had no close that day: the last known close was used
    NO_START_VALUE = 2  # V_{t-1} + In_t <= 0: the day's return is undefined and taken as 0
    NEGATIVE_CASH = 4  # cash < 0 at the end of the day
    EMPTIED = 8  # the day began with value and ended at exactly 0
    INCOME_WITHOUT_POSITION = 16  # a dividend (or interest on an instrument) while not holding it
    MISSING_FX = 32  # an FX rate was missing that day: the last known rate was used
    SHORT_POSITION = 64  # a quantity is negative at the end of the day (sold more than held)


# Plain ints for the hot loop (IntFlag arithmetic is comparatively slow).
_STALE = int(Flag.STALE_PRICE)
_NO_START = int(Flag.NO_START_VALUE)
_NEG_CASH = int(Flag.NEGATIVE_CASH)
_EMPTIED = int(Flag.EMPTIED)
_INCOME_NO_POS = int(Flag.INCOME_WITHOUT_POSITION)
_MISSING_FX = int(Flag.MISSING_FX)
_SHORT = int(Flag.SHORT_POSITION)
# Flags that describe the shape of the return itself; an aggregate recomputes these.
_RETURN_FLAGS = _NO_START | _EMPTIED


class TxnType(enum.StrEnum):
    """The booking types of `intermediaries.models.TransactionType`."""

    BUY = "buy"
    SELL = "sell"
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    DIVIDEND = "dividend"
    INTEREST = "interest"
    FEE = "fee"
    TAX = "tax"
    TRANSFER_IN = "transfer_in"
    TRANSFER_OUT = "transfer_out"


_CASH_IN = frozenset({"dividend", "interest"})
_CASH_OUT = frozenset({"fee", "tax"})
_SECURITY_TYPES = frozenset({"buy", "sell", "transfer_in", "transfer_out"})
# Bookings whose price becomes the position's value while its instrument has no close yet.
_FALLBACK_TYPES = frozenset({"buy", "transfer_in", "transfer_out"})
_KNOWN_TYPES = frozenset(t.value for t in TxnType)


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Txn:
    """One booking, as in `intermediaries.models.Transaction` (amount >= 0, type gives direction)."""

    id: int
    type: str  # buy, sell, deposit, withdrawal, dividend, interest, fee, tax, transfer_in, transfer_out
    trade_date: date
    instrument_id: int | None
    quantity: Decimal  # >= 0
    price: Decimal  # per unit, in `currency`
    amount: Decimal  # >= 0, in `currency`; for transfers the stated value, 0 if unknown
    currency: str


@dataclass(frozen=True)
class DayValue:
    """One portfolio (or aggregate) on one day, in its currency; mirrors `Valuation`."""

    date: date
    market_value: Decimal  # end of day, cash included
    cash: Decimal  # end of day
    inflow: Decimal  # external, counted at the start of the day
    outflow: Decimal  # external, counted at the end of the day
    daily_return: Decimal
    twr_index: Decimal  # growth of 1 since inception
    flags: int = 0  # bits of `Flag`


@dataclass(frozen=True)
class HoldingSpan:
    """A position from `valid_from` until `valid_to` (exclusive; None = still held); mirrors `Holding`."""

    instrument_id: int
    valid_from: date
    valid_to: date | None
    quantity: Decimal
    cost: Decimal  # average-cost basis in the portfolio currency


@dataclass(frozen=True)
class PortfolioHistory:
    currency: str
    days: list[DayValue] = field(default_factory=list)  # one per valuation day, in date order
    holdings: list[HoldingSpan] = field(default_factory=list)  # by instrument, then valid_from


@dataclass(frozen=True)
class ResumePosition:
    """One instrument at the end of a stored day: its open holding span, and its fallback price.

    `valid_from` is the start of the open span (None when nothing is held). `fallback` is the
    (price, currency) of the latest buy or transfer with a price on or before that day -- what the
    position is worth while the instrument has no close yet; None when there is none (or it cannot
    matter because the instrument has a close on or before the day). An instrument that is not
    held may be given for its fallback alone (quantity 0).
    """

    quantity: Decimal
    cost: Decimal  # in the portfolio currency, as stored (cents)
    valid_from: date | None
    fallback: tuple[Decimal, str] | None = None


@dataclass(frozen=True)
class ResumeState:
    """Where a replay stands at the end of `day`, a day that is already stored.

    Built from that day's `Valuation` row (market value, cash, index) and the `Holding` spans open
    at its end; `resume_state` does it from a `DayValue` and `HoldingSpan`s.
    """

    day: date
    market_value: Decimal
    cash: Decimal
    twr_index: Decimal
    positions: Mapping[int, ResumePosition] = field(default_factory=dict)  # by instrument id


def resume_state(
    day: DayValue,
    holdings: Iterable[HoldingSpan],
    fallbacks: Mapping[int, tuple[Decimal, str]] | None = None,
) -> ResumeState:
    """The state at the end of `day` from its row, the spans (those open at its end count) and fallbacks."""
    fallbacks = fallbacks or {}
    positions: dict[int, ResumePosition] = {}
    for span in holdings:
        if span.quantity and span.valid_from <= day.date and (span.valid_to is None or span.valid_to > day.date):
            positions[span.instrument_id] = ResumePosition(
                span.quantity, span.cost, span.valid_from, fallbacks.get(span.instrument_id)
            )
    for iid, fallback in fallbacks.items():
        if iid not in positions:
            positions[iid] = ResumePosition(ZERO, ZERO, None, fallback)
    return ResumeState(day.date, day.market_value, day.cash, day.twr_index, positions)


def fallback_prices(transactions: Iterable[Txn], through: date | None = None) -> dict[int, tuple[Decimal, str]]:
    """Per instrument, (price, currency) of the latest buy or transfer with a price on or before `through`.

    The replay values a position at that price while its instrument has no close yet; a resumed
    replay needs it for the bookings it does not see again.
    """
    latest: dict[int, tuple[Decimal, str]] = {}
    for t in sorted(transactions, key=lambda t: (t.trade_date, t.id)):
        if through is not None and t.trade_date > through:
            break
        if t.type in _FALLBACK_TYPES and t.instrument_id is not None and t.price > 0:
            latest[t.instrument_id] = (t.price, t.currency)
    return latest


# --------------------------------------------------------------------------------------------
# Series lookups with a moving pointer (valuation days only ever move forward)
# --------------------------------------------------------------------------------------------


class _ForwardSeries:
    """Last value on or before a day, for days asked in non-decreasing order.

    `at(d)` returns (value, exact) where exact tells whether the series had an entry on d itself,
    or (None, False) when the series has nothing on or before d.
    """

    __slots__ = ("_i", "_n", "_series", "_value", "_when")

    def __init__(self, series: Sequence[tuple[date, Decimal]]):
        self._series = series
        self._n = len(series)
        self._i = 0
        self._when: date | None = None
        self._value: Decimal | None = None

    def at(self, d: date) -> tuple[Decimal | None, bool]:
        series, i, n = self._series, self._i, self._n
        while i < n and series[i][0] <= d:
            self._when, self._value = series[i]
            i += 1
        self._i = i
        return self._value, self._when == d


class _Converter:
    """Converts amounts into the portfolio currency at one day's rates, remembering MISSING_FX."""

    __slots__ = ("_fx", "_quote", "currency", "day", "flags", "rates")

    def __init__(self, currency: str, fx: dict[str, RateSeries]):
        self.currency = currency
        self._fx = fx
        self._quote: dict[str, _ForwardSeries] = {}
        self.day: date | None = None
        self.rates: dict[str, Decimal] = {}
        self.flags = 0

    def start_day(self, d: date) -> None:
        self.day = d
        self.rates = {}
        self.flags = 0

    def rate(self, ccy: str) -> Decimal:
        rate = self.rates.get(ccy)
        if rate is not None:
            return rate
        if ccy == BASE_CURRENCY:
            rate = ONE
        else:
            quote = self._quote.get(ccy)
            if quote is None:
                quote = self._quote[ccy] = _ForwardSeries(self._fx.get(ccy, ()))
            rate, exact = quote.at(self.day)
            if rate is None:
                raise PerformanceInputError(f"No FX rate for {ccy} on or before {self.day.isoformat()}.")
            if not rate:
                raise PerformanceInputError(f"FX rate for {ccy} on or before {self.day.isoformat()} is zero.")
            if not exact:
                self.flags |= _MISSING_FX
        self.rates[ccy] = rate
        return rate

    def __call__(self, amount: Decimal, ccy: str) -> Decimal:
        if ccy == self.currency or not amount:
            return amount
        return amount / self.rate(ccy) * self.rate(self.currency)


# --------------------------------------------------------------------------------------------
# 1. Replay and value one portfolio
# --------------------------------------------------------------------------------------------


def daily_return(previous_value: Decimal, inflow: Decimal, value: Decimal, outflow: Decimal) -> tuple[Decimal, int]:
    """One day's time-weighted return: inflows count from the start of the day, outflows at its end.

    r = (V_end + outflow) / (V_previous + inflow) - 1. With nothing to start from the return is
    undefined: 0 and NO_START_VALUE. A day that began with value and ended at 0 is EMPTIED.
    """
    start = previous_value + inflow
    if start <= 0:
        return ZERO, _NO_START
    return (value + outflow) / start - ONE, (0 if value else _EMPTIED)


def valuation_days(first: date, until: date, extra: Iterable[date] = ()) -> list[date]:
    """Monday to Friday from `first` to `until` inclusive, plus the `extra` days in that range."""
    days: set[date] = set(d for d in extra if first <= d <= until)
    d = first
    one = timedelta(days=1)
    while d <= until:
        if d.weekday() < 5:
            days.add(d)
        d += one
    return sorted(days)


class _Position:
    __slots__ = ("cost", "fallback", "quantity", "span_cost", "span_from", "span_quantity")

    def __init__(self) -> None:
        self.quantity = ZERO
        self.cost = ZERO
        # (price, currency) of the latest buy/transfer: the value while no close exists yet.
        self.fallback: tuple[Decimal, str] | None = None
        # The open holding span (its start, and the quantity and cost it was opened with).
        self.span_from: date | None = None
        self.span_quantity = ZERO
        self.span_cost = ZERO


def value_portfolio(
    *,
    currency: str,
    transactions: Iterable[Txn],
    prices: dict[int, PriceSeries],
    instrument_currency: dict[int, str],
    fx: dict[str, RateSeries],
    until: date,
    resume: ResumeState | None = None,
) -> PortfolioHistory:
    """Replay `transactions` and value the portfolio on every valuation day up to `until`.

    Bookings after `until` are ignored. Returns the daily series and the holding spans; an empty
    history when nothing was booked on or before `until`. Raises `PerformanceInputError` for a
    booking it cannot interpret or an amount in a currency with no FX rate on or before its day.

    With `resume`, the replay continues after `resume.day` instead of starting at the first
    booking: bookings on or before that day are ignored (the state already holds them), the days
    are those after it up to `until` (weekdays and booking days, as always), and the index goes on
    from `resume.twr_index`. Prices and rates need only start with the last entry on or before
    `resume.day` per instrument and currency. `holdings` then holds only what changed: spans
    opened after `resume.day`, and spans open at `resume.day` that have since closed -- with
    their original `valid_from` and their `valid_to`, to replace the stored ones. A span open at
    `resume.day` and still open is not returned. Stored rows plus these figures are what a full
    replay gives.
    """
    with decimal.localcontext(prec=PRECISION):
        after = resume.day if resume is not None else None
        txns = sorted(
            (t for t in transactions if t.trade_date <= until and (after is None or t.trade_date > after)),
            key=lambda t: (t.trade_date, t.id),
        )
        for t in txns:
            _check(t)
        if after is None:
            if not txns:
                return PortfolioHistory(currency=currency)
            first = txns[0].trade_date
        else:
            first = after + timedelta(days=1)
        days = valuation_days(first, until, (t.trade_date for t in txns))
        if not days:
            return PortfolioHistory(currency=currency)
        return _replay(currency, txns, days, prices, instrument_currency, fx, resume)


def _check(t: Txn) -> None:
    if t.type not in _KNOWN_TYPES:
        raise PerformanceInputError(f"Transaction {t.id}: unknown type {t.type!r}.")
    if t.type in _SECURITY_TYPES and t.instrument_id is None:
        raise PerformanceInputError(f"Transaction {t.id}: a {t.type} needs an instrument.")
    if t.quantity < 0 or t.amount < 0:
        raise PerformanceInputError(f"Transaction {t.id}: quantity and amount must not be negative.")


def _replay(
    currency: str,
    txns: list[Txn],
    days: list[date],
    prices: dict[int, PriceSeries],
    instrument_currency: dict[int, str],
    fx: dict[str, RateSeries],
    resume: ResumeState | None = None,
) -> PortfolioHistory:
    convert = _Converter(currency, fx)
    closes: dict[int, _ForwardSeries] = {}
    positions: dict[int, _Position] = {}
    held: dict[int, _Position] = {}  # quantity != 0
    spans: list[HoldingSpan] = []
    out: list[DayValue] = []

    cash = ZERO
    previous_value = ZERO
    index = ONE
    k, n = 0, len(txns)
    resumed_through: date | None = None
    if resume is not None:
        resumed_through = resume.day
        cash = resume.cash.quantize(CENT)
        previous_value = resume.market_value.quantize(CENT)
        index = resume.twr_index.quantize(INDEX_PLACES)
        for iid, start in resume.positions.items():
            pos = positions[iid] = _Position()
            pos.fallback = start.fallback
            if start.quantity:
                if start.valid_from is None or start.valid_from > resumed_through:
                    raise PerformanceInputError(
                        f"Resume: instrument {iid} is held without a span open on {resume.day}."
                    )
                pos.quantity = start.quantity
                pos.cost = start.cost.quantize(CENT)
                pos.span_from, pos.span_quantity, pos.span_cost = start.valid_from, pos.quantity, pos.cost
                held[iid] = pos

    def unit_value(iid: int, pos: _Position, d: date) -> tuple[Decimal, bool]:
        """Value of one unit in the portfolio currency on d, and whether the price was stale."""
        quote = closes.get(iid)
        if quote is None:
            quote = closes[iid] = _ForwardSeries(prices.get(iid, ()))
        close, exact = quote.at(d)
        if close is not None:
            ccy = instrument_currency.get(iid)
            if ccy is None:
                raise PerformanceInputError(f"Instrument {iid} has prices but no currency.")
            return convert(close, ccy), not exact
        if pos.fallback is None:
            return ZERO, True
        price, ccy = pos.fallback
        return convert(price, ccy), True

    for d in days:
        convert.start_day(d)
        flags = 0
        inflow = ZERO
        outflow = ZERO
        touched: list[int] = []

        while k < n and txns[k].trade_date == d:
            t = txns[k]
            k += 1
            kind = t.type
            if kind == "deposit":
                amount = convert(t.amount, t.currency).quantize(CENT)
                cash += amount
                inflow += amount
            elif kind == "withdrawal":
                amount = convert(t.amount, t.currency).quantize(CENT)
                cash -= amount
                outflow += amount
            elif kind in _CASH_IN:
                cash += convert(t.amount, t.currency).quantize(CENT)
                if t.instrument_id is not None:
                    pos = positions.get(t.instrument_id)
                    if pos is None or pos.quantity <= 0:
                        flags |= _INCOME_NO_POS
            elif kind in _CASH_OUT:
                cash -= convert(t.amount, t.currency).quantize(CENT)
            else:  # buy, sell, transfer_in, transfer_out
                iid = t.instrument_id
                pos = positions.get(iid)
                if pos is None:
                    pos = positions[iid] = _Position()
                touched.append(iid)
                qty = t.quantity
                if kind != "sell" and t.price > 0:
                    pos.fallback = (t.price, t.currency)
                if kind == "buy":
                    amount = convert(t.amount, t.currency).quantize(CENT)
                    cash -= amount
                    _add(pos, qty, amount)
                elif kind == "sell":
                    cash += convert(t.amount, t.currency).quantize(CENT)
                    _remove(pos, qty)
                else:
                    if t.amount > 0:
                        value = convert(t.amount, t.currency).quantize(CENT)
                    else:
                        unit, stale = unit_value(iid, pos, d)
                        value = (qty * unit).quantize(CENT)
                        if stale:
                            flags |= _STALE
                    if kind == "transfer_in":
                        inflow += value
                        _add(pos, qty, value)
                    else:
                        outflow += value
                        _remove(pos, qty)
                if pos.quantity:
                    held[iid] = pos
                else:
                    held.pop(iid, None)

        # End of day: value, flags, return -- at the stored precision (see the module docstring).
        securities = ZERO
        for iid, pos in held.items():
            unit, stale = unit_value(iid, pos, d)
            securities += pos.quantity * unit
            if stale:
                flags |= _STALE
            if pos.quantity < 0:
                flags |= _SHORT
        value = (cash + securities).quantize(CENT)
        if cash < 0:
            flags |= _NEG_CASH

        daily, return_flags = daily_return(previous_value, inflow, value, outflow)
        flags |= return_flags
        index = (index * (ONE + daily)).quantize(INDEX_PLACES)
        flags |= convert.flags
        out.append(DayValue(d, value, cash, inflow, outflow, daily, index, flags))
        previous_value = value

        for iid in touched:
            _roll_span(spans, iid, positions[iid], d)

    for iid, pos in positions.items():
        # A span open at the resumed day and still open is already stored as it is.
        if pos.span_from is not None and (resumed_through is None or pos.span_from > resumed_through):
            spans.append(HoldingSpan(iid, pos.span_from, None, pos.span_quantity, pos.span_cost))
    spans.sort(key=lambda s: (s.instrument_id, s.valid_from))
    return PortfolioHistory(currency=currency, days=out, holdings=spans)


def _add(pos: _Position, qty: Decimal, value: Decimal) -> None:
    """Quantity in at `value`; buying back a short position carries no cost for the covered part.

    The cost stays in cents, as it is stored.
    """
    before = pos.quantity
    pos.quantity = before + qty
    if before >= 0:
        pos.cost = (pos.cost + value).quantize(CENT)
    elif pos.quantity > 0 and qty:
        pos.cost = (value * pos.quantity / qty).quantize(CENT)
    else:
        pos.cost = ZERO


def _remove(pos: _Position, qty: Decimal) -> None:
    """Quantity out: the cost falls in proportion (average cost), to 0 when nothing long is left."""
    before = pos.quantity
    pos.quantity = before - qty
    if pos.quantity <= 0 or before <= 0:
        pos.cost = ZERO
    else:
        pos.cost = (pos.cost - pos.cost * qty / before).quantize(CENT)


def _roll_span(spans: list[HoldingSpan], iid: int, pos: _Position, d: date) -> None:
    """Close the open span and open a new one on d if the end-of-day quantity or cost changed."""
    if pos.span_from is not None:
        if pos.quantity == pos.span_quantity and pos.cost == pos.span_cost:
            return
        spans.append(HoldingSpan(iid, pos.span_from, d, pos.span_quantity, pos.span_cost))
        pos.span_from = None
    if pos.quantity:
        pos.span_from, pos.span_quantity, pos.span_cost = d, pos.quantity, pos.cost


# --------------------------------------------------------------------------------------------
# 2. Aggregate several portfolios
# --------------------------------------------------------------------------------------------


def aggregate(
    days_by_member: Sequence[Sequence[DayValue]],
    *,
    rates: Sequence[RateSeries | None] | None = None,
) -> list[DayValue]:
    """Combine member series (a client's portfolios, a broker's book) into one daily series.

    Per day the members' values, cash, inflows and outflows are summed and the return and index
    are recomputed with the same formula as for a single portfolio. The days are the union of the
    members' days; a member without a row on a day contributes its last value and cash (carried
    forward) and no flows; a member contributes nothing before its first row.

    `rates` is optional. Without it the members are taken to be in one common currency already
    (the caller converted them). With it, `rates[i]` is None for a member already in the common
    currency, or a sorted series of (date, units of the member's currency per 1 unit of the common
    currency) -- e.g. `fx["USD"]` for a USD portfolio in a EUR book. Each day's amounts are then
    divided by that day's rate (carried forward and flagged MISSING_FX when missing; a day before
    the first rate raises `PerformanceInputError`), carried-forward values at the current rate.

    Flags: the data-quality bits of the members' rows that day (STALE_PRICE, NEGATIVE_CASH,
    INCOME_WITHOUT_POSITION, MISSING_FX, SHORT_POSITION) are OR-ed; NO_START_VALUE and EMPTIED
    describe the return, so they are recomputed from the aggregate's own figures (one member
    emptied does not empty the book).
    """
    if rates is not None and len(rates) != len(days_by_member):
        raise PerformanceInputError("aggregate: give one rate series (or None) per member.")
    with decimal.localcontext(prec=PRECISION):
        members = [sorted(series, key=lambda v: v.date) for series in days_by_member]
        all_days = sorted({v.date for series in members for v in series})
        pointers = [0] * len(members)
        last: list[DayValue | None] = [None] * len(members)
        quotes = [None if rates is None or rates[i] is None else _ForwardSeries(rates[i]) for i in range(len(members))]

        out: list[DayValue] = []
        previous_value = ZERO
        index = ONE
        for d in all_days:
            value = cash = inflow = outflow = ZERO
            flags = 0
            for i, series in enumerate(members):
                j = pointers[i]
                row = None
                if j < len(series) and series[j].date == d:
                    row = series[j]
                    pointers[i] = j + 1
                    last[i] = row
                carried = last[i]
                if carried is None:
                    continue
                factor = ONE
                quote = quotes[i]
                if quote is not None:
                    rate, exact = quote.at(d)
                    if rate is None or not rate:
                        raise PerformanceInputError(f"aggregate: no rate for member {i} on or before {d.isoformat()}.")
                    factor = ONE / rate
                    if not exact:
                        flags |= _MISSING_FX
                value += carried.market_value * factor
                cash += carried.cash * factor
                if row is not None:
                    inflow += row.inflow * factor
                    outflow += row.outflow * factor
                    flags |= row.flags & ~_RETURN_FLAGS

            daily, return_flags = daily_return(previous_value, inflow, value, outflow)
            flags |= return_flags
            index *= ONE + daily
            out.append(DayValue(d, value, cash, inflow, outflow, daily, index, flags))
            previous_value = value
        return out


# --------------------------------------------------------------------------------------------
# 3. Period figures
# --------------------------------------------------------------------------------------------


def _last_on_or_before(series: Sequence[DayValue], dates: list[date], d: date) -> DayValue | None:
    i = bisect.bisect_right(dates, d)
    return series[i - 1] if i else None


def twr(series: Sequence[DayValue], start: date, end: date) -> Decimal:
    """Cumulative time-weighted return over the days start..end inclusive (not annualised).

    index(end) / index(last day before start) - 1, where index(x) is the index of the last row on
    or before x and the index before inception is 1.
    """
    if start > end:
        raise PerformanceInputError(f"twr: start {start} is after end {end}.")
    with decimal.localcontext(prec=PRECISION):
        dates = [v.date for v in series]
        before = _last_on_or_before(series, dates, start - timedelta(days=1))
        last = _last_on_or_before(series, dates, end)
        base = before.twr_index if before is not None else ONE
        top = last.twr_index if last is not None else ONE
        if not base:
            raise PerformanceInputError("twr: the index is 0 before the period (a total loss); no return.")
        return top / base - ONE


def annualise(r: Decimal, days: int) -> Decimal:
    """(1 + r) ** (365 / days) - 1. A total loss (or worse) stays -1."""
    if days <= 0:
        raise PerformanceInputError("annualise: the period must have a positive number of days.")
    with decimal.localcontext(prec=PRECISION):
        growth = ONE + Decimal(r)
        if growth <= 0:
            return -ONE
        return growth ** (Decimal(365) / Decimal(days)) - ONE


# XIRR runs in binary floating point: a rate is found to about 1e-13, far inside the 1e-8 the
# figures are shown and tested to, and math.exp is a hundred times faster than Decimal.exp, which
# matters because every client page solves it for six periods.
_XIRR_TOLERANCE = 1e-14
_XIRR_FLOOR = -0.9999999999  # rates must stay above -100 %


def _npv(flows: list[tuple[float, float]], rate: float) -> tuple[float, float]:
    """Net present value at `rate` and its derivative; flows are (years since the first, amount)."""
    log_growth = math.log1p(rate)
    value = 0.0
    slope = 0.0
    for years, amount in flows:
        discounted = amount * math.exp(-years * log_growth) if years else amount
        value += discounted
        slope -= years * discounted
    return value, slope / (1.0 + rate)


def xirr(flows: Iterable[tuple[date, Decimal]]) -> Decimal | None:
    """Annual money-weighted return: the rate r with sum(cf / (1 + r) ** (days / 365)) = 0.

    Flows are (date, amount): money paid in is negative, money received positive. Newton's method
    from 10 %, with a bisection fallback. None when the flows do not change sign (or all fall on
    one day), so there is no rate to find.
    """
    merged: dict[date, Decimal] = {}
    for d, amount in flows:
        merged[d] = merged.get(d, ZERO) + Decimal(amount)
    merged = {d: a for d, a in merged.items() if a}
    if not merged or min(merged.values()) >= 0 or max(merged.values()) <= 0:
        return None
    first = min(merged)
    points = [((d - first).days / 365.0, float(a)) for d, a in sorted(merged.items())]
    if all(not years for years, _ in points):
        return None

    found = _newton_rate(points)
    if found is None:
        found = _bisect_rate(points)
    return None if found is None else Decimal(repr(found))


def _newton_rate(points: list[tuple[float, float]]) -> float | None:
    """Newton's method from 10 %; None when it does not converge to a rate above -100 %."""
    rate = 0.1
    for _ in range(60):
        try:
            value, slope = _npv(points, rate)
        except OverflowError:
            return None
        if not slope:
            return None
        step = value / slope
        rate -= step
        if rate <= _XIRR_FLOOR or rate > 1_000_000:
            return None
        if abs(step) < _XIRR_TOLERANCE * max(1.0, abs(rate)):
            return rate
    return None


def _bisect_rate(points: list[tuple[float, float]]) -> float | None:
    try:
        return _bisect(points)
    except OverflowError:  # decades of flows discounted at nearly -100 %: no rate to show
        return None


def _bisect(points: list[tuple[float, float]]) -> float | None:
    low = _XIRR_FLOOR
    f_low = _npv(points, low)[0]
    high = 1.0
    f_high = _npv(points, high)[0]
    while (f_low > 0) == (f_high > 0):
        if high > 1_000_000:
            return None
        high *= 10
        f_high = _npv(points, high)[0]
    for _ in range(200):
        mid = (low + high) / 2
        f_mid = _npv(points, mid)[0]
        if not f_mid or high - low < _XIRR_TOLERANCE:
            return mid
        if (f_mid > 0) == (f_low > 0):
            low, f_low = mid, f_mid
        else:
            high = mid
    return (low + high) / 2


def mwr(series: Sequence[DayValue], start: date, end: date) -> Decimal | None:
    """Annualised money-weighted return (XIRR) over the days start..end inclusive.

    Flows: -V(last day before start) at start when positive, -inflow and +outflow on each day in
    the period, +V(end) (last row on or before end) at end. None when XIRR has no answer.
    """
    if start > end:
        raise PerformanceInputError(f"mwr: start {start} is after end {end}.")
    with decimal.localcontext(prec=PRECISION):
        dates = [v.date for v in series]
        flows: list[tuple[date, Decimal]] = []
        before = _last_on_or_before(series, dates, start - timedelta(days=1))
        if before is not None and before.market_value > 0:
            flows.append((start, -before.market_value))
        lo = bisect.bisect_left(dates, start)
        hi = bisect.bisect_right(dates, end)
        for v in series[lo:hi]:
            if v.inflow:
                flows.append((v.date, -v.inflow))
            if v.outflow:
                flows.append((v.date, v.outflow))
        last = _last_on_or_before(series, dates, end)
        if last is not None and last.market_value:
            flows.append((end, last.market_value))
        return xirr(flows)


PERIODS = ("1M", "MTD", "YTD", "1Y", "3Y", "MAX")


def _years_back(d: date, years: int) -> date:
    year = d.year - years
    return d.replace(year=year, day=min(d.day, calendar.monthrange(year, d.month)[1]))


def period_bounds(period: str, today: date, inception: date) -> tuple[date, date]:
    """(start, end) of a reporting period ending `today`; both days inclusive, as `twr` takes them.

    1M starts the day after the same date a month back, MTD on the 1st of the month, YTD on 1 January, 1Y / 3Y the day after the same date one /
    three years back (so the base is the close exactly a year ago; 29 February falls back to the
    28th), MAX on `inception`. A start before inception is moved to inception.
    """
    key = period.upper()
    if key == "MTD":
        start = today.replace(day=1)
    elif key == "YTD":
        start = today.replace(month=1, day=1)
    elif key == "1M":
        month_ago = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
        start = month_ago.replace(day=min(today.day, calendar.monthrange(month_ago.year, month_ago.month)[1]))
        start += timedelta(days=1)
    elif key == "1Y":
        start = _years_back(today, 1) + timedelta(days=1)
    elif key == "3Y":
        start = _years_back(today, 3) + timedelta(days=1)
    elif key == "MAX":
        start = inception
    else:
        raise PerformanceInputError(f"Unknown period {period!r}; expected one of {', '.join(PERIODS)}.")
    if today < inception:
        raise PerformanceInputError(f"period_bounds: today {today} is before inception {inception}.")
    return max(start, inception), today


# --------------------------------------------------------------------------------------------
# 4. Helpers for callers that hold stored figures
# --------------------------------------------------------------------------------------------


def rate_on(fx: dict[str, RateSeries], currency: str, day: date) -> Decimal:
    """Units of `currency` per 1 EUR on `day`, the last known rate carried forward."""
    if currency == BASE_CURRENCY:
        return ONE
    series = fx.get(currency) or ()
    i = bisect.bisect_right(series, (day, Decimal("Infinity")))
    if not i or not series[i - 1][1]:
        raise PerformanceInputError(f"No FX rate for {currency} on or before {day.isoformat()}.")
    return series[i - 1][1]


def convert(amount: Decimal, from_currency: str, to_currency: str, day: date, fx: dict[str, RateSeries]) -> Decimal:
    if from_currency == to_currency or not amount:
        return amount
    with decimal.localcontext(prec=PRECISION):
        return amount / rate_on(fx, from_currency, day) * rate_on(fx, to_currency, day)


def chain_link(rows: Iterable[tuple[date, Decimal, Decimal, Decimal]]) -> list[DayValue]:
    """Daily returns and the index from stored (date, value, inflow, outflow) rows of one currency."""
    member = [DayValue(d, value, ZERO, inflow, outflow, ZERO, ONE, 0) for d, value, inflow, outflow in rows]
    return aggregate([member]) if member else []


def index_before(series: Sequence[DayValue], start: date) -> Decimal:
    """The index at the close before `start`: the base that a chart of the period starts from."""
    before = _last_on_or_before(series, [v.date for v in series], start - timedelta(days=1))
    return before.twr_index if before is not None and before.twr_index else ONE
