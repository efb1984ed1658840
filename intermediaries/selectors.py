"""Reads for the broker workspace, always through the client policy of `clients.permissions`.

Every figure comes from precomputed tables (Valuation, Holding, Allocation, BookValuation):
no page replays transactions.
"""

from bisect import bisect_left
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, OuterRef, Q, Subquery, Sum
from django.http import Http404

from clients.models import Client
from clients.selectors import access_client, client_list
from portal.accounts.roles import Role
from portal.core.versioned_cache import cached_figures

from . import performance
from .market_data import fx_series
from .models import Allocation, BookValuation, Holding, Portfolio, Price, Transaction, Valuation
from .rollups import client_series

ZERO = Decimal("0")
PERIODS = list(performance.PERIODS)


def book_scope(actor) -> dict | None:
    """Which precomputed book series belongs to the actor: their own, or their firm's for a manager."""
    if actor.has_role(Role.FIRM_MANAGER) and actor.organisation_id:
        return {"firm_id": actor.organisation_id}
    if actor.has_role(Role.INTERMEDIARY):
        return {"advisor_id": actor.pk}
    return None


# The `*_of(client=...)` reads below take a client that `access_client` returned for the actor:
# a page checks access once and then reads everything about that client without checking again.


def portfolios_of(*, client):
    return Portfolio.objects.filter(client=client)


def transactions_of(*, client):
    return Transaction.objects.filter(portfolio__client=client).select_related(
        "portfolio", "instrument", "reference", "counterpart_portfolio"
    )


@dataclass
class Position:
    portfolio: Portfolio
    instrument: object
    quantity: Decimal
    cost: Decimal
    price: Decimal | None
    price_date: date | None
    market_value: Decimal
    weight: Decimal
    stale: bool

    @property
    def unrealised(self) -> Decimal:
        return self.market_value - self.cost

    @property
    def unrealised_pct(self) -> Decimal | None:
        return (self.market_value / self.cost - 1) if self.cost else None


def position_list(*, actor, client_id, on: date | None = None) -> list[Position]:
    """Positions of a client's portfolios on a day, valued at that day's (or the last known) close."""
    return positions_of(client=access_client(actor=actor, client_id=client_id), on=on)


def positions_of(*, client, on: date | None = None) -> list[Position]:
    return cached_figures("positions", (client.pk, on), lambda: _positions(client, on))


def _positions(client, on: date | None) -> list[Position]:
    portfolios = {p.pk: p for p in Portfolio.objects.filter(client=client)}
    if on is None:
        on = max((p.valued_on for p in portfolios.values() if p.valued_on), default=date.today())
    holdings = list(
        Holding.objects.filter(portfolio_id__in=portfolios, valid_from__lte=on)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=on))
        .exclude(quantity=0)
        .select_related("instrument")
    )
    instrument_ids = {h.instrument_id for h in holdings}
    # Last close on or before the day, per instrument: one query (latest row per instrument).
    closes: dict[int, tuple[date, Decimal]] = {}
    if instrument_ids:
        for instrument_id, day, close in (
            Price.objects.filter(instrument_id__in=instrument_ids, date__lte=on, date__gte=on - timedelta(days=31))
            .order_by("instrument_id", "-date")
            .values_list("instrument_id", "date", "close")
        ):
            closes.setdefault(instrument_id, (day, close))
    fx = fx_series({h.instrument.currency for h in holdings} | {p.currency for p in portfolios.values()}, on)
    positions = []
    for h in holdings:
        portfolio = portfolios[h.portfolio_id]
        price_date, close = closes.get(h.instrument_id, (None, None))
        value = ZERO
        if close is not None:
            value = performance.convert(h.quantity * close, h.instrument.currency, portfolio.currency, on, fx)
        positions.append(
            Position(
                portfolio=portfolio,
                instrument=h.instrument,
                quantity=h.quantity,
                cost=h.cost,
                price=close,
                price_date=price_date,
                market_value=value,
                weight=ZERO,
                stale=price_date != on,
            )
        )
    # Each portfolio's value on the day: its last valuation on or before it, one indexed lookup each.
    last_value = (
        Valuation.objects.filter(portfolio_id=OuterRef("pk"), date__lte=on).order_by("-date").values("market_value")[:1]
    )
    totals = dict(
        Portfolio.objects.filter(pk__in=portfolios).annotate(total=Subquery(last_value)).values_list("pk", "total")
    )
    for position in positions:
        total = totals.get(position.portfolio.pk) or ZERO
        position.weight = position.market_value / total if total else ZERO
    positions.sort(key=lambda p: (p.portfolio.number, -p.market_value))
    return positions


def client_performance(*, actor, client_id, start: date | None = None, end: date | None = None) -> dict:
    """TWR, MWR and the daily series of a client's whole holdings (EUR) over a range.

    See `performance_summary` for the figures.
    """
    return performance_of(client=access_client(actor=actor, client_id=client_id), start=start, end=end)


def performance_of(*, client, start: date | None = None, end: date | None = None) -> dict:
    return cached_figures("client-performance", (client.pk, start, end), lambda: _summary(client, start, end))


def performance_overview_of(*, client) -> dict:
    """What the client page shows: the period table, the flags and the chart since inception.

    The chart is (ISO day, cumulative return as a float) pairs instead of the exact daily series:
    a cached entry of a thousand Decimal rows costs more to unpickle than the page takes to render.
    """

    def compute():
        summary = _summary(client, None, None)
        summary["chart"] = [(p["date"].isoformat(), float(p["cumulative_return"])) for p in summary.pop("series")]
        return summary

    return cached_figures("client-overview", (client.pk,), compute)


def _summary(client, start, end) -> dict:
    series = client_series(client_id=client.pk)
    return performance_summary(
        series, start=start, end=end, flags=client_flags(client_id=client.pk, start=start, end=end)
    )


def client_flags(*, client_id, start=None, end=None) -> int:
    rows = Valuation.objects.filter(portfolio__client_id=client_id, flags__gt=0)
    if start:
        rows = rows.filter(date__gte=start)
    if end:
        rows = rows.filter(date__lte=end)
    flags = 0
    for value in rows.order_by().values_list("flags", flat=True).distinct():
        flags |= value
    return flags


NO_FIGURES = {"twr": None, "mwr": None, "twr_annualised": None, "mwr_annualised": None}


def period_figures(series, start: date, end: date) -> dict:
    """The returns of the days start..end inclusive (GIPS).

    `twr` and `mwr` are cumulative over the same days -- from the close before `start` to the close
    of `end` -- so without deposits or withdrawals in between they are equal. `twr_annualised` and
    `mwr_annualised` are the same returns per year, given only for a period of a year or more
    (None for a shorter one: a short period's return is never annualised). `mwr` is None when the
    flows have no internal rate of return.
    """
    twr = performance.twr(series, start, end)
    mwr = performance.money_weighted(series, start, end)
    return {
        "twr": twr,
        "mwr": mwr,
        "twr_annualised": performance.annualise_period(twr, start, end),
        "mwr_annualised": performance.annualise_period(mwr, start, end),
    }


def performance_summary(series, *, start=None, end=None, flags: int = 0) -> dict:
    """The figures of a daily series over a range (default: all of it) and over the reporting periods.

    Keys: `start`, `end` (the range, within the series), the range's `period_figures` (`twr`,
    `mwr`, `twr_annualised`, `mwr_annualised`), the `series` of the range's days, the data-quality
    `flags`, and `periods`: per reporting period (1M, MTD, YTD, 1Y, 3Y, MAX) its `code`, `start`,
    `end` and `period_figures`.
    """
    if not series:
        return {"start": start, "end": end, **NO_FIGURES, "series": [], "flags": flags, "periods": []}
    inception, last = series[0].date, series[-1].date
    start = max(start or inception, inception)
    end = min(end or last, last)
    # A range wholly before the first or after the last valuation holds no days: no figures for it.
    in_range = start <= end
    window = [d for d in series if start <= d.date <= end]
    base = performance.index_before(series, start)
    periods = []
    for code in PERIODS:
        p_start, p_end = performance.period_bounds(code, last, inception)
        periods.append({"code": code, "start": p_start, "end": p_end, **period_figures(series, p_start, p_end)})
    return {
        "start": start,
        "end": end,
        **(period_figures(series, start, end) if in_range else NO_FIGURES),
        "series": [
            {
                "date": d.date,
                "value": d.market_value,
                "cumulative_return": d.twr_index / base - 1,
                "daily_return": d.daily_return,
            }
            for d in window
        ],
        "flags": flags,
        "periods": periods,
    }


def dashboard(*, actor, period: str = "YTD") -> dict:
    """The broker's (or firm manager's) dashboard figures; a bounded number of queries for any book size."""
    scope = book_scope(actor)
    if scope is None:
        raise Http404
    if period not in PERIODS:
        period = "YTD"
    return cached_figures(
        "dashboard", dashboard_key(actor=actor, period=period), lambda: _dashboard(actor, scope, period)
    )


def dashboards_warm(*, advisor_ids, firm_ids) -> int:
    """Compute into the cache the default dashboard of these brokers and of these firms' managers.

    After a revaluation every cached dashboard is out of date; computing them here, on a worker,
    spares each broker's first visit the cold computation. Returns the dashboards computed.
    """
    from django.contrib.auth import get_user_model

    actors = (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(
            Q(pk__in=advisor_ids, groups__name=Role.INTERMEDIARY)
            | Q(organisation_id__in=firm_ids, groups__name=Role.FIRM_MANAGER)
        )
        .distinct()
        .order_by("pk")
    )
    warmed = 0
    for actor in actors.iterator(chunk_size=500):  # each has a book: a broker, or a manager of a firm
        dashboard(actor=actor)
        warmed += 1
    return warmed


def dashboard_key(*, actor, period: str) -> tuple:
    return (*actor_key(actor=actor), period)


def actor_key(*, actor) -> tuple:
    """Everything about the actor that decides which clients they see (shares and data changes bump the version)."""
    return (actor.pk, actor.organisation_id, ",".join(sorted(actor.roles)))


def _dashboard(actor, scope: dict, period: str) -> dict:
    # Plain tuples, not model instances: three years of days are a thousand rows.
    book = list(
        BookValuation.objects.filter(**scope)
        .order_by("date")
        .values_list("date", "market_value", "inflow", "outflow", "twr_index")
    )
    clients = client_list(actor=actor)
    counts = clients.aggregate(total=Count("pk"), active=Count("pk", filter=Q(status=Client.Status.ACTIVE)))
    figures = {
        "period": period,
        "aum": ZERO,
        "aum_change": ZERO,
        "twr": None,
        "as_of": None,
        "clients_total": counts["total"],
        "clients_active": counts["active"],
        "net_inflows_month": ZERO,
        "chart": [],
    }
    if book:
        last_date, last_value, _, _, last_index = book[-1]
        start, _ = performance.period_bounds(period, last_date, book[0][0])
        first_in_period = bisect_left(book, (start,))
        before = book[first_in_period - 1] if first_in_period else None
        start_value = before[1] if before else ZERO
        base = before[4] if before else Decimal(1)
        month_start = last_date.replace(day=1)
        figures.update(
            aum=last_value,
            as_of=last_date,
            aum_change=last_value - start_value,
            twr=last_index / base - 1,
            net_inflows_month=sum(
                (inflow - outflow for day, _, inflow, outflow, _ in book[bisect_left(book, (month_start,)) :]), ZERO
            ),
            chart=[
                {"date": day, "value": value, "cumulative_return": index / base - 1}
                for day, value, _, _, index in book[first_in_period:]
            ],
        )
    # The book's portfolio ids once: every list below is then an indexed lookup by portfolio.
    portfolio_ids = list(Portfolio.objects.filter(client__in=clients).values_list("pk", flat=True))
    figures["latest_transactions"] = list(
        Transaction.objects.filter(portfolio_id__in=portfolio_ids)
        .select_related("portfolio__client", "instrument", "reference", "counterpart_portfolio")
        .order_by("-trade_date", "-id")[:10]
    )
    figures["top_clients"] = list(clients.order_by("-assets", "pk")[:5])
    allocation = (
        Allocation.objects.filter(portfolio_id__in=portfolio_ids)
        .values("asset_class")
        .annotate(value=Sum("market_value_eur"))
        .order_by("-value")
    )
    total = sum((a["value"] for a in allocation), ZERO)
    figures["allocation"] = [
        {"asset_class": a["asset_class"], "value": a["value"], "weight": a["value"] / total if total else ZERO}
        for a in allocation
    ]
    return figures


def broker_breakdown(*, actor) -> list[dict]:
    """For a firm manager: each broker of the firm with clients and assets."""
    if not (actor.has_role(Role.FIRM_MANAGER) and actor.organisation_id):
        raise Http404
    from django.contrib.auth import get_user_model

    return list(
        get_user_model()
        .objects.filter(organisation_id=actor.organisation_id, groups__name=Role.INTERMEDIARY)
        .annotate(
            clients_total=Count("advised_clients"),
            clients_active=Count("advised_clients", filter=Q(advised_clients__status=Client.Status.ACTIVE)),
            assets=Sum("advised_clients__assets"),
        )
        .order_by("last_name", "first_name")
    )
