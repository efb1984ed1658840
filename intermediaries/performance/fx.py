"""FX: rates carried forward day by day, and amounts converted into a portfolio's currency.

Rates follow `intermediaries.models.FxRate`: units of a currency per 1 EUR; EUR is always 1.
An amount in currency A on day d becomes `amount / rate_A(d) * rate_P(d)` in currency P.
"""

from __future__ import annotations

import bisect
import decimal
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from .data import BASE_CURRENCY, MISSING_FX, ONE, PRECISION, PerformanceInputError, RateSeries


class ForwardSeries:
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


class Converter:
    """Converts amounts into the portfolio currency at one day's rates, remembering MISSING_FX."""

    __slots__ = ("_fx", "_quote", "currency", "day", "flags", "rates")

    def __init__(self, currency: str, fx: dict[str, RateSeries]):
        self.currency = currency
        self._fx = fx
        self._quote: dict[str, ForwardSeries] = {}
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
                quote = self._quote[ccy] = ForwardSeries(self._fx.get(ccy, ()))
            rate, exact = quote.at(self.day)
            if rate is None:
                raise PerformanceInputError(f"No FX rate for {ccy} on or before {self.day.isoformat()}.")
            if not rate:
                raise PerformanceInputError(f"FX rate for {ccy} on or before {self.day.isoformat()} is zero.")
            if not exact:
                self.flags |= MISSING_FX
        self.rates[ccy] = rate
        return rate

    def __call__(self, amount: Decimal, ccy: str) -> Decimal:
        if ccy == self.currency or not amount:
            return amount
        return amount / self.rate(ccy) * self.rate(self.currency)


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
