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
        quotes = [None if rates is None or rates[i] is None else ForwardSeries(rates[i]) for i in range(len(members))]

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
                        flags |= MISSING_FX
                value += carried.market_value * factor
                cash += carried.cash * factor
                if row is not None:
                    inflow += row.inflow * factor
                    outflow += row.outflow * factor
                    flags |= row.flags & ~RETURN_FLAGS

            daily, return_flags = daily_return(previous_value, inflow, value, outflow)
            flags |= return_flags
            index *= ONE + daily
            out.append(DayValue(d, value, cash, inflow, outflow, daily, index, flags))
            previous_value = value
        return out


def chain_link(rows: Iterable[tuple[date, Decimal, Decimal, Decimal]]) -> list[DayValue]:
    """Daily returns and the index from stored (date, value, inflow, outflow) rows of one currency."""
    member = [DayValue(d, value, ZERO, inflow, outflow, ZERO, ONE, 0) for d, value, inflow, outflow in rows]
    return aggregate([member]) if member else []
