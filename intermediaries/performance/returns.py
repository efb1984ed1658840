"""Returns over a period: time-weighted (chain-linked daily), money-weighted (XIRR), annualised.

Both period returns are cumulative over the same days, from the close before the first day to
the close of the last, so without flows in between they are equal. Following GIPS, a return is
annualised only for a period of a year or more (`annualise_period`).

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
from .periods import covers_a_year, period_years
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


def annualise_period(r: Decimal | None, start: date, end: date) -> Decimal | None:
    """A cumulative return over the days start..end as a yearly rate -- only for a year or more.

    GIPS: a return for less than a year is never annualised (None). Otherwise
    (1 + r) ** (1 / years) - 1 with `years` counted in calendar years (see `period_years`), so the
    annualised return of exactly one year, or of a calendar year, is its cumulative return.
    """
    if r is None or not covers_a_year(start, end):
        return None
    with decimal.localcontext(prec=PRECISION):
        growth = ONE + Decimal(r)
        if growth <= 0:
            return -ONE
        return growth ** (ONE / period_years(start, end)) - ONE


def mwr_flows(series: Sequence[DayValue], start: date, end: date) -> list[tuple[date, Decimal]]:
    """The dated cash flows of the days start..end inclusive, as the investor sees them.

    The period runs from the close before `start` to the close of `end`, as the time-weighted
    return does, and every flow is dated at the close it belongs to:

    * the value at the close before the period (the last row before `start`), paid in, dated the
      day before `start`;
    * an inflow counts from the start of its day, which is the close of the day before: it is paid
      in on the day before its row;
    * an outflow counts at the end of its day: received on its row's day;
    * the value at the close of `end` (the last row on or before it), received on `end`.

    Money paid in is negative, money received positive.
    """
    if start > end:
        raise PerformanceInputError(f"mwr: start {start} is after end {end}.")
    one_day = timedelta(days=1)
    with decimal.localcontext(prec=PRECISION):
        dates = [v.date for v in series]
        flows: list[tuple[date, Decimal]] = []
        before = last_on_or_before(series, dates, start - one_day)
        if before is not None and before.market_value > 0:
            flows.append((start - one_day, -before.market_value))
        lo = bisect.bisect_left(dates, start)
        hi = bisect.bisect_right(dates, end)
        for v in series[lo:hi]:
            if v.inflow:
                flows.append((v.date - one_day, -v.inflow))
            if v.outflow:
                flows.append((v.date, v.outflow))
        last = last_on_or_before(series, dates, end)
        if last is not None and last.market_value:
            flows.append((end, last.market_value))
        return flows


def mwr(series: Sequence[DayValue], start: date, end: date) -> Decimal | None:
    """The money-weighted rate (XIRR, per year of 365 days) of the days start..end inclusive.

    The flows are `mwr_flows`. None when XIRR has no answer. This is the solver's rate; what a
    period shows is `money_weighted` (cumulative) and, from a year on, `annualise_period` of it.
    """
    return xirr(mwr_flows(series, start, end))


def money_weighted(series: Sequence[DayValue], start: date, end: date) -> Decimal | None:
    """The cumulative money-weighted return of the days start..end inclusive (not annualised).

    The internal rate of return of `mwr_flows` per the days from the first flow to the last (the
    XIRR rate, compounded over those days instead of a year). With no flow but the opening and the
    closing value it is V(end) / V(before start) - 1, which is the time-weighted return of the same
    days. None when XIRR has no answer.
    """
    flows = mwr_flows(series, start, end)
    moments = [d for d, amount in flows if amount]
    if not moments:
        return None
    days = (max(moments) - min(moments)).days
    return xirr(flows, period_days=days) if days else None


def index_before(series: Sequence[DayValue], start: date) -> Decimal:
    """The index at the close before `start`: the base that a chart of the period starts from."""
    before = last_on_or_before(series, [v.date for v in series], start - timedelta(days=1))
    return before.twr_index if before is not None and before.twr_index else ONE
