"""Replay one portfolio's bookings and value it on every valuation day.

Valuation days are Monday to Friday from the first booking to `until`, plus any weekend day that
carries a booking. Prices and rates missing on a valuation day are carried forward and the day is
flagged, so weekend bookings usually come with STALE_PRICE / MISSING_FX. A sale or transfer out of
more than was held leaves a negative quantity; the replay goes on (the short position is valued at
quantity x close, i.e. negatively) and flags the day SHORT_POSITION.

Besides trades, income, costs and external flows, the replay books what core systems send about
positions: a split (or reverse split, or bonus issue) multiplies a position's quantity by its ratio
and keeps its cost -- no cash, no flow; a write-off takes worthless units out at no value -- a loss,
not a withdrawal; a reversal cancels the booking it refers to, so both are left out; a fee refund
is income. A transfer between two portfolios of one client is a flow for each portfolio, kept
apart as internal so a client's (or a book's) aggregate leaves it out, and the receiving side
takes on the cost basis the sending side gave up (see `Txn`).

What the replay carries from one day to the next is kept at the precision `Valuation` and
`Holding` store it with: every booking moves cash, flows and cost by whole cents of the portfolio
currency (converted, then rounded: as on a statement); each day's market value is rounded to the
cent and the index to 12 decimal places; the daily return itself is not rounded, quantities are
not either, except that a split's new quantity is rounded to the 8 places `Holding` keeps (a
fraction the core system settles in cash comes as a sale of its own). So a stored day is a
complete state, and a replay resumed from it gives the same figures.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

from .data import (
    CASH_IN,
    CASH_OUT,
    CENT,
    FALLBACK_TYPES,
    INCOME_NO_POS,
    INDEX_PLACES,
    KNOWN_TYPES,
    NEG_CASH,
    ONE,
    PRECISION,
    QUANTITY_PLACES,
    SECURITY_TYPES,
    SHORT,
    STALE,
    ZERO,
    DayValue,
    HoldingSpan,
    PerformanceInputError,
    PortfolioHistory,
    PriceSeries,
    RateSeries,
    ResumeState,
    Txn,
    effective,
    split_price,
)
from .fx import Converter, ForwardSeries
from .returns import daily_return


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

    Bookings after `until` are ignored, and so are reversals and the bookings they cancel, whatever
    their dates (a reversal restates the history as if its booking had never been made). Returns
    the daily series and the holding spans; an empty history when nothing was booked on or before
    `until`. Raises `PerformanceInputError` for a booking it cannot interpret or an amount in a
    currency with no FX rate on or before its day.

    With `resume`, the replay continues after `resume.day` instead of starting at the first
    booking: bookings on or before that day are ignored (the state already holds them), the days
    are those after it up to `until` (weekdays and booking days, as always), and the index goes on
    from `resume.twr_index`. Prices and rates need only start with the last entry on or before
    `resume.day` per instrument and currency. `holdings` then holds only what changed: spans
    opened after `resume.day`, and spans open at `resume.day` that have since closed -- with
    their original `valid_from` and their `valid_to`, to replace the stored ones. A span open at
    `resume.day` and still open is not returned. Stored rows plus these figures are what a full
    replay gives; `carried_costs` likewise holds only the transfers after `resume.day`.
    """
    with decimal.localcontext(prec=PRECISION):
        after = resume.day if resume is not None else None
        transactions = list(transactions)
        for t in transactions:
            _check(t)
        txns = sorted(
            (t for t in effective(transactions) if t.trade_date <= until and (after is None or t.trade_date > after)),
            key=lambda t: (t.trade_date, t.id),
        )
        if after is None:
            if not txns:
                return PortfolioHistory(currency=currency)
            first = txns[0].trade_date
        else:
            first = after + timedelta(days=1)
        days = valuation_days(first, until, (t.trade_date for t in txns))
        if not days:
            return PortfolioHistory(currency=currency)
        replay = _Replay(currency=currency, prices=prices, instrument_currency=instrument_currency, fx=fx)
        if resume is not None:
            replay.resume_from(resume)
        return replay.run(txns, days)


def _check(t: Txn) -> None:
    if t.type not in KNOWN_TYPES:
        raise PerformanceInputError(f"Transaction {t.id}: unknown type {t.type!r}.")
    if t.type in SECURITY_TYPES and t.instrument_id is None:
        raise PerformanceInputError(f"Transaction {t.id}: a {t.type} needs an instrument.")
    if t.quantity < 0 or t.amount < 0:
        raise PerformanceInputError(f"Transaction {t.id}: quantity and amount must not be negative.")
    if t.type == "split" and (t.ratio is None or t.ratio <= 0):
        raise PerformanceInputError(f"Transaction {t.id}: a split needs a ratio greater than 0.")
    if t.type == "reversal" and t.reference_id is None:
        raise PerformanceInputError(f"Transaction {t.id}: a reversal needs the booking it cancels.")


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


class _Replay:
    """One pass over a portfolio's bookings, day by day.

    It holds what carries from one day to the next (cash, positions, the last value and the
    index), what the day being replayed has gathered so far (flags, external flows, the
    instruments it booked), and what it has produced (the days and the closed holding spans).
    Runs inside `value_portfolio`'s decimal context.
    """

    __slots__ = (
        "carried",
        "cash",
        "closes",
        "convert",
        "days",
        "flags",
        "held",
        "index",
        "inflow",
        "instrument_currency",
        "internal_inflow",
        "internal_outflow",
        "outflow",
        "positions",
        "previous_value",
        "prices",
        "resumed_through",
        "spans",
        "touched",
    )

    def __init__(
        self,
        *,
        currency: str,
        prices: dict[int, PriceSeries],
        instrument_currency: dict[int, str],
        fx: dict[str, RateSeries],
    ):
        self.prices = prices
        self.instrument_currency = instrument_currency
        self.convert = Converter(currency, fx)
        self.closes: dict[int, ForwardSeries] = {}
        self.positions: dict[int, _Position] = {}
        self.held: dict[int, _Position] = {}  # quantity != 0
        self.spans: list[HoldingSpan] = []
        self.days: list[DayValue] = []
        self.cash = ZERO
        self.previous_value = ZERO
        self.index = ONE
        self.resumed_through: date | None = None
        self.flags = 0
        self.inflow = ZERO
        self.outflow = ZERO
        self.internal_inflow = ZERO
        self.internal_outflow = ZERO
        self.touched: list[int] = []
        self.carried: dict[int, Decimal] = {}

    def resume_from(self, resume: ResumeState) -> None:
        """Start from the end of a stored day: its cash, value and index, and the positions open then."""
        self.resumed_through = resume.day
        self.cash = resume.cash.quantize(CENT)
        self.previous_value = resume.market_value.quantize(CENT)
        self.index = resume.twr_index.quantize(INDEX_PLACES)
        for iid, start in resume.positions.items():
            pos = self.positions[iid] = _Position()
            pos.fallback = start.fallback
            if not start.quantity:
                continue
            if start.valid_from is None or start.valid_from > resume.day:
                raise PerformanceInputError(f"Resume: instrument {iid} is held without a span open on {resume.day}.")
            pos.quantity = start.quantity
            pos.cost = start.cost.quantize(CENT)
            pos.span_from, pos.span_quantity, pos.span_cost = start.valid_from, pos.quantity, pos.cost
            self.held[iid] = pos

    def run(self, txns: list[Txn], days: list[date]) -> PortfolioHistory:
        """Every day in `days`: its bookings (sorted by day), then its value. `txns` fall on those days."""
        k, n = 0, len(txns)
        for d in days:
            self.day_start(d)
            while k < n and txns[k].trade_date == d:
                self.book(txns[k], d)
                k += 1
            self.day_end(d)
        return self.history()

    def day_start(self, d: date) -> None:
        self.convert.start_day(d)
        self.flags = 0
        self.inflow = ZERO
        self.outflow = ZERO
        self.internal_inflow = ZERO
        self.internal_outflow = ZERO
        self.touched = []

    def book(self, t: Txn, d: date) -> None:
        """One booking: cash moves, or a position moves (with cash for a trade, as a flow for a transfer)."""
        kind = t.type
        if kind == "deposit":
            amount = self.cash_amount(t)
            self.cash += amount
            self.inflow += amount
        elif kind == "withdrawal":
            amount = self.cash_amount(t)
            self.cash -= amount
            self.outflow += amount
        elif kind in CASH_IN:
            self.cash += self.cash_amount(t)
            if kind != "fee_refund" and t.instrument_id is not None and not self.holds(t.instrument_id):
                self.flags |= INCOME_NO_POS
        elif kind in CASH_OUT:
            self.cash -= self.cash_amount(t)
        else:
            self.book_securities(t, d)

    def cash_amount(self, t: Txn) -> Decimal:
        """The booking's amount in the portfolio currency, in whole cents (as on a statement)."""
        return self.convert(t.amount, t.currency).quantize(CENT)

    def holds(self, iid: int) -> bool:
        pos = self.positions.get(iid)
        return pos is not None and pos.quantity > 0

    def book_securities(self, t: Txn, d: date) -> None:
        """A buy, sell, transfer in or out, write-off or split."""
        iid = t.instrument_id
        pos = self.positions.get(iid)
        if pos is None:
            pos = self.positions[iid] = _Position()
        self.touched.append(iid)
        kind, qty = t.type, t.quantity
        if kind in FALLBACK_TYPES and t.price > 0:
            pos.fallback = (t.price, t.currency)
        if kind == "buy":
            amount = self.cash_amount(t)
            self.cash -= amount
            _add(pos, qty, amount)
        elif kind == "sell":
            self.cash += self.cash_amount(t)
            _remove(pos, qty)
        elif kind == "transfer_in":
            value = self.transfer_value(t, pos, d)
            self.inflow += value
            cost = value
            if t.internal:
                self.internal_inflow += value
                if t.carried_cost is not None:
                    cost = self.convert(t.carried_cost, t.carried_currency or self.convert.currency).quantize(CENT)
            _add(pos, qty, cost)
        elif kind == "transfer_out":
            value = self.transfer_value(t, pos, d)
            self.outflow += value
            removed = _remove(pos, qty)
            if t.internal:
                self.internal_outflow += value
                self.carried[t.id] = removed
        elif kind == "write_off":
            # Worthless units leave at no value: the day's value falls, and that is a loss, not a flow.
            _remove(pos, qty)
        else:  # split: more (or fewer) units for the same cost, no cash, no flow
            pos.quantity = (pos.quantity * t.ratio).quantize(QUANTITY_PLACES)
            if pos.fallback is not None:
                pos.fallback = (split_price(pos.fallback[0], t.ratio), pos.fallback[1])
        if pos.quantity:
            self.held[iid] = pos
        else:
            self.held.pop(iid, None)

    def transfer_value(self, t: Txn, pos: _Position, d: date) -> Decimal:
        """Securities moved without cash are worth the stated amount, or the day's close when none is stated."""
        if t.amount > 0:
            return self.cash_amount(t)
        unit, stale = self.unit_value(t.instrument_id, pos, d)
        if stale:
            self.flags |= STALE
        return (t.quantity * unit).quantize(CENT)

    def unit_value(self, iid: int, pos: _Position, d: date) -> tuple[Decimal, bool]:
        """Value of one unit in the portfolio currency on d, and whether the price was stale."""
        quote = self.closes.get(iid)
        if quote is None:
            quote = self.closes[iid] = ForwardSeries(self.prices.get(iid, ()))
        close, exact = quote.at(d)
        if close is not None:
            ccy = self.instrument_currency.get(iid)
            if ccy is None:
                raise PerformanceInputError(f"Instrument {iid} has prices but no currency.")
            return self.convert(close, ccy), not exact
        if pos.fallback is None:
            return ZERO, True
        price, ccy = pos.fallback
        return self.convert(price, ccy), True

    def day_end(self, d: date) -> None:
        """The day's value, return and flags at the stored precision; then the spans of what it booked."""
        securities, flags = self.securities_value(d)
        value = (self.cash + securities).quantize(CENT)
        if self.cash < 0:
            flags |= NEG_CASH
        daily, return_flags = daily_return(self.previous_value, self.inflow, value, self.outflow)
        self.index = (self.index * (ONE + daily)).quantize(INDEX_PLACES)
        flags |= self.flags | return_flags | self.convert.flags
        self.days.append(
            DayValue(
                d,
                value,
                self.cash,
                self.inflow,
                self.outflow,
                daily,
                self.index,
                flags,
                self.internal_inflow,
                self.internal_outflow,
            )
        )
        self.previous_value = value
        for iid in self.touched:
            _roll_span(self.spans, iid, self.positions[iid], d)

    def securities_value(self, d: date) -> tuple[Decimal, int]:
        """What the positions held at the end of d are worth (unrounded), with STALE_PRICE and SHORT_POSITION."""
        securities = ZERO
        flags = 0
        for iid, pos in self.held.items():
            unit, stale = self.unit_value(iid, pos, d)
            securities += pos.quantity * unit
            if stale:
                flags |= STALE
            if pos.quantity < 0:
                flags |= SHORT
        return securities, flags

    def history(self) -> PortfolioHistory:
        """The days, and the spans: those closed on the way plus those still open."""
        for iid, pos in self.positions.items():
            # A span open at the resumed day and still open is already stored as it is.
            if pos.span_from is not None and (self.resumed_through is None or pos.span_from > self.resumed_through):
                self.spans.append(HoldingSpan(iid, pos.span_from, None, pos.span_quantity, pos.span_cost))
        self.spans.sort(key=lambda s: (s.instrument_id, s.valid_from))
        return PortfolioHistory(
            currency=self.convert.currency, days=self.days, holdings=self.spans, carried_costs=self.carried
        )


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


def _remove(pos: _Position, qty: Decimal) -> Decimal:
    """Quantity out: the cost falls in proportion (average cost), to 0 when nothing long is left.

    Returns the cost taken out (in cents).
    """
    before, cost = pos.quantity, pos.cost
    pos.quantity = before - qty
    if pos.quantity <= 0 or before <= 0:
        pos.cost = ZERO
    else:
        pos.cost = (pos.cost - pos.cost * qty / before).quantize(CENT)
    return cost - pos.cost


def _roll_span(spans: list[HoldingSpan], iid: int, pos: _Position, d: date) -> None:
    """Close the open span and open a new one on d if the end-of-day quantity or cost changed."""
    if pos.span_from is not None:
        if pos.quantity == pos.span_quantity and pos.cost == pos.span_cost:
            return
        spans.append(HoldingSpan(iid, pos.span_from, d, pos.span_quantity, pos.span_cost))
        pos.span_from = None
    if pos.quantity:
        pos.span_from, pos.span_quantity, pos.span_cost = d, pos.quantity, pos.cost
