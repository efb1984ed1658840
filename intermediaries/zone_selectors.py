"""Reads for the client zone: the signed-in client's own portfolios, positions and performance.

Every function takes the client that `clients.zone.zone_client` returned for the request, so a
client only ever reads their own record. The figures come from the same precomputed tables and
the same cached selectors as the broker's client page (`selectors.positions_of`,
`selectors.performance_of`, `selectors.performance_overview_of`): a client and their broker see
the same figures for the same day.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Count, Max, Min, OuterRef, Subquery, Sum
from django.http import Http404

from portal.core.versioned_cache import cached_figures

from . import performance, selectors
from .models import Allocation, AssetClass, Portfolio, Valuation
from .rollups import client_series

ZERO = Decimal("0")


def zone_portfolio(*, client, portfolio_id) -> Portfolio:
    """One of the client's portfolios; any other id does not exist for them (404)."""
    try:
        portfolio_id = int(portfolio_id)
    except (TypeError, ValueError):
        raise Http404 from None
    portfolio = Portfolio.objects.filter(client=client, pk=portfolio_id).first()
    if portfolio is None:
        raise Http404
    return portfolio


def valuation_span_of(*, client) -> dict:
    """The client's portfolio count, first opening day and latest valuation day (for defaults and bounds)."""

    def compute():
        return Portfolio.objects.filter(client=client).aggregate(
            count=Count("pk"), opened=Min("opened_on"), latest=Max("valued_on")
        )

    return cached_figures("zone-span", (client.pk,), compute)


@dataclass
class PortfolioHoldings:
    """One portfolio on a day: its positions, its cash and its value from the stored valuation."""

    portfolio: Portfolio
    positions: list = field(default_factory=list)
    valued_on: date | None = None  # the valuation the figures are from (on or before the day)
    value: Decimal | None = None  # in the portfolio's currency, cash included
    cash: Decimal = ZERO
    value_eur: Decimal = ZERO
    share: Decimal = ZERO  # of the client's total, in EUR

    @property
    def securities_value(self) -> Decimal:
        return sum((p.market_value for p in self.positions), ZERO)

    @property
    def cost(self) -> Decimal:
        return sum((p.cost for p in self.positions), ZERO)

    @property
    def unrealised(self) -> Decimal:
        return self.securities_value - self.cost

    @property
    def unrealised_pct(self) -> Decimal | None:
        return self.securities_value / self.cost - 1 if self.cost else None

    @property
    def cash_weight(self) -> Decimal:
        return self.cash / self.value if self.value else ZERO


@dataclass
class Holdings:
    day: date | None
    portfolios: list[PortfolioHoldings]
    total_eur: Decimal

    @property
    def positions(self) -> list:
        return [position for holding in self.portfolios for position in holding.positions]


def holdings_of(*, client, on: date | None = None, portfolio: Portfolio | None = None) -> Holdings:
    """The client's positions on a day (default: the latest valuation), grouped by portfolio, with totals.

    The positions are `selectors.positions_of` (the broker's figures, cached alike); each
    portfolio's value and cash are its stored valuation on or before the day.
    """
    span = valuation_span_of(client=client)
    day = on or span["latest"]
    if day is None:  # not valued yet (a new client, portfolios without a price day): nothing held to show
        return Holdings(day=None, portfolios=[], total_eur=ZERO)
    # No date given: the same call (and the same cached entry) as the broker's page.
    positions = selectors.positions_of(client=client, on=on)
    last = Valuation.objects.filter(portfolio_id=OuterRef("pk"), date__lte=day).order_by("-date")
    rows = Portfolio.objects.filter(client=client)
    if portfolio is not None:
        rows = rows.filter(pk=portfolio.pk)
    rows = rows.annotate(
        v_date=Subquery(last.values("date")[:1]),
        v_value=Subquery(last.values("market_value")[:1]),
        v_cash=Subquery(last.values("cash")[:1]),
        v_eur=Subquery(last.values("market_value_eur")[:1]),
    ).order_by("number")
    holdings = []
    for row in rows:
        holdings.append(
            PortfolioHoldings(
                portfolio=row,
                positions=[p for p in positions if p.portfolio.pk == row.pk],
                valued_on=row.v_date,
                value=row.v_value,
                cash=row.v_cash or ZERO,
                value_eur=row.v_eur or ZERO,
            )
        )
    total = sum((h.value_eur for h in holdings), ZERO)
    for holding in holdings:
        holding.share = holding.value_eur / total if total else ZERO
    return Holdings(day=day, portfolios=holdings, total_eur=total)


def allocation_of(*, client) -> list[dict]:
    """The client's latest value per asset class in EUR, with weights (as the broker's dashboard, for one client)."""

    def compute():
        rows = list(
            Allocation.objects.filter(portfolio__client=client)
            .values("asset_class")
            .annotate(value=Sum("market_value_eur"))
            .order_by("-value", "asset_class")
        )
        total = sum((row["value"] for row in rows), ZERO)
        return [
            {
                "asset_class": row["asset_class"],
                "value": row["value"],
                "weight": row["value"] / total if total else ZERO,
            }
            for row in rows
            if row["value"]
        ]

    allocation = cached_figures("zone-allocation", (client.pk,), compute)
    # Labels in the reader's language, after the (language-free) cached figures.
    return [{**row, "label": AssetClass(row["asset_class"]).label} for row in allocation]


def assets_change_of(*, client, period: str) -> dict | None:
    """Total assets (EUR) at the latest valuation and how they changed over the period: net flows and gain.

    From the same chain-linked series as the client's performance figures; None without valuations.
    """

    def compute():
        series = client_series(client_id=client.pk)
        if not series:
            return None
        last = series[-1]
        start, end = performance.period_bounds(period, last.date, series[0].date)
        before = [d for d in series if d.date < start]
        start_value = before[-1].market_value if before else ZERO
        flows = sum((d.inflow - d.outflow for d in series if start <= d.date <= end), ZERO)
        change = last.market_value - start_value
        return {
            "period": period,
            "start": start,
            "as_of": last.date,
            "value": last.market_value,
            "start_value": start_value,
            "change": change,
            "net_flows": flows,
            "gain": change - flows,
        }

    return cached_figures("zone-assets", (client.pk, period), compute)


def performance_range_of(*, client, period: str | None = None, start=None, end=None) -> dict:
    """The figures of one period (a code of `selectors.PERIODS`) or a custom range, and the period table.

    `overview` is what the broker's client page shows (the period table, TWR and MWR side by side,
    and the flags since inception); `figures` is `selectors.performance_of` for the chosen range:
    its TWR, MWR, daily series and the flags of those days. A period's bounds are the table's own.
    """
    overview = selectors.performance_overview_of(client=client)
    if period is not None:
        row = next((p for p in overview["periods"] if p["code"] == period), None)
        if row is None:
            return {"overview": overview, "figures": None, "period": period}
        start, end = row["start"], row["end"]
    try:
        figures = selectors.performance_of(client=client, start=start, end=end)
    except performance.PerformanceInputError:
        figures = None
    return {"overview": overview, "figures": figures, "period": period, "start": start, "end": end}


def flag_texts(flags: int) -> list[str]:
    """The data-quality flags, each explained in a sentence."""
    return [label for value, label in Valuation.Flag.choices if flags & value]
