"""The data the arithmetic works on: bookings, daily values, holding spans, the state a replay resumes from.

Plain frozen dataclasses, filled by the valuation service from the database and returned to it.
"""

from __future__ import annotations

import decimal
import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

BASE_CURRENCY = "EUR"
PRECISION = 28

ZERO = Decimal(0)
ONE = Decimal(1)
# The stored precision (`Valuation`, `Holding`): what the replay carries from day to day.
CENT = Decimal("0.01")
INDEX_PLACES = Decimal("0.000000000001")
QUANTITY_PLACES = Decimal("0.00000001")

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
STALE = int(Flag.STALE_PRICE)
NO_START = int(Flag.NO_START_VALUE)
NEG_CASH = int(Flag.NEGATIVE_CASH)
EMPTIED = int(Flag.EMPTIED)
INCOME_NO_POS = int(Flag.INCOME_WITHOUT_POSITION)
MISSING_FX = int(Flag.MISSING_FX)
SHORT = int(Flag.SHORT_POSITION)
# Flags that describe the shape of the return itself; an aggregate recomputes these.
RETURN_FLAGS = NO_START | EMPTIED


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
    FEE_REFUND = "fee_refund"
    REVERSAL = "reversal"
    WRITE_OFF = "write_off"
    SPLIT = "split"


# Income: performance, not a flow. A fee refund gives back a cost, so it is income too.
CASH_IN = frozenset({"dividend", "interest", "fee_refund"})
CASH_OUT = frozenset({"fee", "tax"})
# Bookings that move a position (and so need an instrument).
SECURITY_TYPES = frozenset({"buy", "sell", "transfer_in", "transfer_out", "write_off", "split"})
# Bookings whose price becomes the position's value while its instrument has no close yet.
FALLBACK_TYPES = frozenset({"buy", "transfer_in", "transfer_out"})
KNOWN_TYPES = frozenset(t.value for t in TxnType)


@dataclass(frozen=True)
class Txn:
    """One booking, as in `intermediaries.models.Transaction` (amount >= 0, type gives direction).

    The fields after `currency` have defaults, so a plain booking needs only the first eight:

    * `ratio`: for a split, the units held after it per unit held before (2 for a 2-for-1 split,
      0.1 for a 1-for-10 reverse split);
    * `reference_id`: for a reversal, the booking it cancels; for the receiving leg of a transfer
      between two portfolios of one client, the sending leg (in the other portfolio);
    * `internal`: a leg of a transfer between two portfolios of one client. It is a flow for the
      portfolio, but not for the client (nor a broker's book): `DayValue.internal_inflow` and
      `internal_outflow` keep it apart so the aggregates leave it out;
    * `carried_cost`, `carried_currency`: for the receiving leg of such a transfer, the cost basis
      the sending leg took out of its portfolio, in that portfolio's currency (None while unknown:
      the units then come in at their value, as for a transfer from outside).
    """

    id: int
    type: str  # one of TxnType
    trade_date: date
    instrument_id: int | None
    quantity: Decimal  # >= 0
    price: Decimal  # per unit, in `currency`
    amount: Decimal  # >= 0, in `currency`; for transfers the stated value, 0 if unknown
    currency: str
    ratio: Decimal | None = None
    reference_id: int | None = None
    internal: bool = False
    carried_cost: Decimal | None = None
    carried_currency: str | None = None


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
    # The part of inflow / outflow that moved between two portfolios of one client (see `Txn.internal`).
    internal_inflow: Decimal = ZERO
    internal_outflow: Decimal = ZERO


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
    # Per sending leg of an internal transfer (booking id): the cost basis it took out, in cents of
    # the portfolio currency -- what the receiving portfolio carries on (`Txn.carried_cost`).
    carried_costs: dict[int, Decimal] = field(default_factory=dict)


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


def effective(transactions: Iterable[Txn]) -> list[Txn]:
    """The bookings that count: a reversal and the booking it cancels are left out, both.

    A reversal whose booking is not among `transactions` is left out too (a resumed replay is
    not given bookings on or before its day; the caller revalues from the cancelled booking's day).
    """
    transactions = list(transactions)
    cancelled = {t.reference_id for t in transactions if t.type == "reversal"}
    if not cancelled:
        return transactions
    return [t for t in transactions if t.type != "reversal" and t.id not in cancelled]


def split_price(price: Decimal, ratio: Decimal) -> Decimal:
    """A price per unit after a split of `ratio` new units per old one."""
    with decimal.localcontext(prec=PRECISION):
        return price / ratio


def fallback_prices(transactions: Iterable[Txn], through: date | None = None) -> dict[int, tuple[Decimal, str]]:
    """Per instrument, (price, currency) of the latest buy or transfer with a price on or before `through`.

    A split after that booking divides the price by its ratio. The replay values a position at
    that price while its instrument has no close yet; a resumed replay needs it for the bookings it
    does not see again.
    """
    latest: dict[int, tuple[Decimal, str]] = {}
    for t in sorted(effective(transactions), key=lambda t: (t.trade_date, t.id)):
        if through is not None and t.trade_date > through:
            break
        if t.instrument_id is None:
            continue
        if t.type in FALLBACK_TYPES and t.price > 0:
            latest[t.instrument_id] = (t.price, t.currency)
        elif t.type == "split" and t.instrument_id in latest and t.ratio:
            price, currency = latest[t.instrument_id]
            latest[t.instrument_id] = (split_price(price, t.ratio), currency)
    return latest
