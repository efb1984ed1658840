"""XIRR: the annual rate at which a series of dated cash flows has a net present value of 0."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from .data import ZERO

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


def xirr(flows: Iterable[tuple[date, Decimal]], *, period_days: int = 365) -> Decimal | None:
    """Money-weighted return: the rate r with sum(cf / (1 + r) ** (days / period_days)) = 0.

    The rate is per `period_days` days: per year by default; a period's own length in days gives
    the period's cumulative return directly, which stays well inside the solver's range where a
    yearly rate of a few days would not (a 10 % gain in a day is 1.1 ** 365 - 1 = 10 ** 15 a year).

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
    points = [((d - first).days / float(period_days), float(a)) for d, a in sorted(merged.items())]
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
