"""Several portfolios as one: a client's portfolios, a broker's or a firm's book."""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

from .data import MISSING_FX, ONE, PRECISION, RETURN_FLAGS, ZERO, DayValue, PerformanceInputError, RateSeries
from .fx import ForwardSeries
from .returns import daily_return


def aggregate(
    days_by_member: Sequence[Sequence[DayValue]],
    *,
    rates: Sequence[RateSeries | None] | None = None,
) -> list[DayValue]:
    """Combine member series (a client's portfolios, a broker's book) into one daily series.

    Per day the members' values, cash, inflows and outflows are summed and the return and index
    are recomputed with the same formula as for a single portfolio. A member's internal flows (a
    transfer between two portfolios of one client, `DayValue.internal_inflow` / `internal_outflow`)
    are left out: they move value inside the aggregate, so they are no flow of it. The days are the union of the
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
        members = [
            _Member(i, sorted(series, key=lambda v: v.date), None if rates is None else rates[i])
            for i, series in enumerate(days_by_member)
        ]
        all_days = sorted({v.date for member in members for v in member.series})
        out: list[DayValue] = []
        previous_value = ZERO
        index = ONE
        for d in all_days:
            value, cash, inflow, outflow, flags = _day_totals(members, d)
            daily, return_flags = daily_return(previous_value, inflow, value, outflow)
            index *= ONE + daily
            out.append(DayValue(d, value, cash, inflow, outflow, daily, index, flags | return_flags))
            previous_value = value
        return out


class _Member:
    """One member's series, walked day by day: its row on a day, else its last row carried forward."""

    __slots__ = ("last", "number", "pointer", "quote", "series")

    def __init__(self, number: int, series: list[DayValue], rates: RateSeries | None):
        self.number = number
        self.series = series
        self.pointer = 0
        self.last: DayValue | None = None
        self.quote = None if rates is None else ForwardSeries(rates)

    def on(self, d: date) -> DayValue | None:
        """The member's row on d, if it has one (and from then on its carried-forward row)."""
        j = self.pointer
        if j < len(self.series) and self.series[j].date == d:
            self.pointer = j + 1
            self.last = self.series[j]
            return self.last
        return None

    def factor(self, d: date) -> tuple[Decimal, int]:
        """What one unit of the member's currency is worth in the common one on d, and MISSING_FX if carried."""
        if self.quote is None:
            return ONE, 0
        rate, exact = self.quote.at(d)
        if rate is None or not rate:
            raise PerformanceInputError(f"aggregate: no rate for member {self.number} on or before {d.isoformat()}.")
        return ONE / rate, 0 if exact else MISSING_FX


def _day_totals(members: list[_Member], d: date) -> tuple[Decimal, Decimal, Decimal, Decimal, int]:
    """The members' value, cash, inflow and outflow on d in the common currency, and their data-quality flags."""
    value = cash = inflow = outflow = ZERO
    flags = 0
    for member in members:
        row = member.on(d)
        carried = member.last
        if carried is None:
            continue
        factor, fx_flag = member.factor(d)
        flags |= fx_flag
        value += carried.market_value * factor
        cash += carried.cash * factor
        if row is not None:
            inflow += (row.inflow - row.internal_inflow) * factor
            outflow += (row.outflow - row.internal_outflow) * factor
            flags |= row.flags & ~RETURN_FLAGS
    return value, cash, inflow, outflow, flags


def chain_link(rows: Iterable[tuple[date, Decimal, Decimal, Decimal]]) -> list[DayValue]:
    """Daily returns and the index from stored (date, value, inflow, outflow) rows of one currency."""
    member = [DayValue(d, value, ZERO, inflow, outflow, ZERO, ONE, 0) for d, value, inflow, outflow in rows]
    return aggregate([member]) if member else []
