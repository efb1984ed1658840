"""Reporting periods: 1M, MTD, YTD, 1Y, 3Y and MAX, as (start, end) days; how long a period is in years."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import Decimal

from .data import PerformanceInputError

PERIODS = ("1M", "MTD", "YTD", "1Y", "3Y", "MAX")


def _years_back(d: date, years: int) -> date:
    year = d.year - years
    return d.replace(year=year, day=min(d.day, calendar.monthrange(year, d.month)[1]))


def covers_a_year(start: date, end: date) -> bool:
    """Whether the days start..end inclusive make a year or more: from the close before `start`
    to the close of `end` at least as far as from a date to the same date a year later."""
    return start - timedelta(days=1) <= _years_back(end, 1)


def period_years(start: date, end: date) -> Decimal:
    """The length of the days start..end inclusive in years: whole calendar years back from `end`,
    then the days left over / 365. Exactly 1 for a year (or a calendar year), 3 for three."""
    base = start - timedelta(days=1)
    whole = end.year - base.year
    while whole > 0 and _years_back(end, whole) < base:
        whole -= 1
    rest = (_years_back(end, whole) - base).days
    return Decimal(whole) + Decimal(rest) / Decimal(365)


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
