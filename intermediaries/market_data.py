"""Closes and FX rates as the valuation reads them: per instrument or currency, sorted (date, value)
rows up to a day, loaded once per run and shared by its portfolios (`MarketData`)."""

from bisect import bisect_right
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from . import performance
from .models import FxRate, Price

# How far before the resumed day the bulk load of closes and rates reaches; an instrument (or
# currency) with no row in that window gets its last earlier row with one more query.
SERIES_LOOKBACK = timedelta(days=10)


def _series_from(model, key: str, value: str, keys, start: date | None, until: date) -> dict:
    """Per key, the sorted (date, value) rows of `model` up to `until`.

    With `start`, only from the last row on or before `start` (so the carry-forward of the last
    known close or rate works from there on) instead of from the first row.
    """
    series: dict = defaultdict(list)
    keys = set(keys)
    if not keys:
        return {}
    rows = model.objects.filter(**{f"{key}__in": keys}, date__lte=until)
    if start is not None:
        rows = rows.filter(date__gte=start - SERIES_LOOKBACK)
    for k, day, v in rows.order_by(key, "date").values_list(key, "date", value):
        series[k].append((day, v))
    if start is not None:
        for k in keys:
            found = series.get(k)
            if found and found[0][0] <= start:
                continue
            earlier = (
                model.objects.filter(**{key: k}, date__lt=start - SERIES_LOOKBACK)
                .order_by("-date")
                .values_list("date", value)
                .first()
            )
            if earlier is not None:
                series[k].insert(0, earlier)
    return dict(series)


def fx_series(currencies: set[str], until: date, start: date | None = None) -> dict[str, list[tuple[date, Decimal]]]:
    return _series_from(FxRate, "currency", "rate", currencies - {"EUR"}, start, until)


def _price_series(instrument_ids, until: date, start: date | None = None) -> dict[int, list[tuple[date, Decimal]]]:
    return _series_from(Price, "instrument_id", "close", instrument_ids, start, until)


class MarketData:
    """Closes and FX rates loaded once and shared by the portfolios of one run (a task's chunk).

    Keyed by the (start, until) they were asked for, so every portfolio gets exactly what it would
    have loaded itself; after a day's import most portfolios ask for the same and load nothing.
    The lists are shared: read them, never change them.
    """

    def __init__(self) -> None:
        self._prices: dict[tuple, dict[int, list]] = {}
        self._fx: dict[tuple, dict[str, list]] = {}

    def prices(self, instrument_ids, until: date, start: date | None = None) -> dict[int, list[tuple[date, Decimal]]]:
        return self._get(self._prices, _price_series, set(instrument_ids), until, start)

    def fx(self, currencies, until: date, start: date | None = None) -> dict[str, list[tuple[date, Decimal]]]:
        return self._get(self._fx, fx_series, set(currencies) - {"EUR"}, until, start)

    @staticmethod
    def _get(cache: dict, load, keys: set, until: date, start: date | None) -> dict:
        known = cache.setdefault((start, until), {})
        missing = keys - known.keys()
        if missing:
            loaded = load(missing, until, start)
            for key in missing:
                known[key] = loaded.get(key, [])
        return {key: known[key] for key in keys if known[key]}


def _to_eur(amount: Decimal, currency: str, day: date, fx) -> Decimal:
    if currency == "EUR" or not amount:
        return amount
    return amount / performance.rate_on(fx, currency, day)


def _last_on_or_before(series: list[tuple[date, Decimal]], day: date) -> Decimal | None:
    i = bisect_right(series, (day, Decimal("Infinity")))
    return series[i - 1][1] if i else None
