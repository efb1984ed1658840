"""Reporting periods: 1M, MTD, YTD, 1Y, 3Y and MAX, as (start, end) days."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from .data import PerformanceInputError

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
