"""Returns over a period: time-weighted (chain-linked daily), money-weighted (XIRR), annualised.

    r_t = (V_t + Out_t) / (V_{t-1} + In_t) - 1          twr_index_t = twr_index_{t-1} * (1 + r_t)

Inflows (deposit, transfer in) count at the start of the day, outflows (withdrawal, transfer out)
at the end. Dividends, interest, fees and taxes are not flows: they are performance.
"""

from __future__ import annotations

import bisect
import decimal
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from .data import EMPTIED, NO_START, ONE, PRECISION, ZERO, DayValue, PerformanceInputError
from .xirr import xirr


def daily_return(previous_value: Decimal, inflow: Decimal, value: Decimal, outflow: Decimal) -> tuple[Decimal, int]:
    """One day's time-weighted return: inflows count from the start of the day, outflows at its end.

    r = (V_end + outflow) / (V_previous + inflow) - 1. With nothing to start from the return is
    undefined: 0 and NO_START_VALUE. A day that began with value and ended at 0 is EMPTIED.
    """
    start = previous_value + inflow
    if start <= 0:
        return ZERO, NO_START
    return (value + outflow) / start - ONE, (0 if value else EMPTIED)


def last_on_or_before(series: Sequence[DayValue], dates: list[date], d: date) -> DayValue | None:
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
        before = last_on_or_before(series, dates, start - timedelta(days=1))
        last = last_on_or_before(series, dates, end)
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
        before = last_on_or_before(series, dates, start - timedelta(days=1))
        if before is not None and before.market_value > 0:
            flows.append((start, -before.market_value))
        lo = bisect.bisect_left(dates, start)
        hi = bisect.bisect_right(dates, end)
        for v in series[lo:hi]:
            if v.inflow:
                flows.append((v.date, -v.inflow))
            if v.outflow:
                flows.append((v.date, v.outflow))
        last = last_on_or_before(series, dates, end)
        if last is not None and last.market_value:
            flows.append((end, last.market_value))
        return xirr(flows)


def index_before(series: Sequence[DayValue], start: date) -> Decimal:
    """The index at the close before `start`: the base that a chart of the period starts from."""
    before = last_on_or_before(series, [v.date for v in series], start - timedelta(days=1))
    return before.twr_index if before is not None and before.twr_index else ONE
