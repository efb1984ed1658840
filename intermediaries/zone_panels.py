"""What the portfolios contribute to the client zone (`clients.zone`): home panels and the data export.

Registered in `IntermediariesConfig.ready()`. Every panel gives None for a client without a
portfolio, so the zone's home leaves it out.
"""

from decimal import Decimal

from django.urls import reverse

from clients.zone import DataExportPart, HomePanel

from . import selectors, zone_selectors
from .charts import allocation_doughnut, period_bars

HOME_PERIOD = "YTD"
LATEST_TRANSACTIONS = 8


def _has_portfolios(client) -> bool:
    return bool(zone_selectors.valuation_span_of(client=client)["count"])


def assets_panel(client, request) -> dict | None:
    if not _has_portfolios(client):
        return None
    return {
        "assets": zone_selectors.assets_change_of(client=client, period=HOME_PERIOD),
        "positions_url": reverse("intermediaries:zone-positions"),
    }


def performance_panel(client, request) -> dict | None:
    if not _has_portfolios(client):
        return None
    overview = selectors.performance_overview_of(client=client)
    return {
        "periods": overview["periods"],
        "chart": period_bars(overview["periods"]),
        "performance_url": reverse("intermediaries:zone-performance"),
    }


def allocation_panel(client, request) -> dict | None:
    if not _has_portfolios(client):
        return None
    allocation = zone_selectors.allocation_of(client=client)
    return {"allocation": allocation, "chart": allocation_doughnut(allocation)}


def transactions_panel(client, request) -> dict | None:
    if not _has_portfolios(client):
        return None
    return {
        "transactions": list(
            selectors.transactions_of(client=client).order_by("-trade_date", "-id")[:LATEST_TRANSACTIONS]
        ),
        "transactions_url": reverse("intermediaries:zone-transactions"),
    }


HOME_PANELS = [
    HomePanel(
        key="portfolio-assets",
        template="intermediaries/zone/panels/_assets.html",
        context=assets_panel,
        order=10,
        width="narrow",
    ),
    HomePanel(
        key="portfolio-allocation",
        template="intermediaries/zone/panels/_allocation.html",
        context=allocation_panel,
        order=11,
        width="narrow",
    ),
    HomePanel(
        key="portfolio-performance",
        template="intermediaries/zone/panels/_performance.html",
        context=performance_panel,
        order=12,
    ),
    HomePanel(
        key="portfolio-transactions",
        template="intermediaries/zone/panels/_transactions.html",
        context=transactions_panel,
        order=13,
    ),
]


# --- "download my data" ------------------------------------------------------------------------


def _plain(value):
    """JSON-ready: Decimals as strings (exact), dates as ISO days."""
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def portfolios_export_part(client) -> tuple[dict, list]:
    """The client's portfolios, their positions at the latest valuation and every transaction, as JSON."""
    portfolios = [
        {
            "number": p.number,
            "name": p.name,
            "currency": p.currency,
            "opened_on": _plain(p.opened_on),
            "status": p.status,
            "market_value": _plain(p.market_value),
            "valued_on": _plain(p.valued_on),
        }
        for p in selectors.portfolios_of(client=client).order_by("number")
    ]
    holdings = zone_selectors.holdings_of(client=client)
    positions = [
        {
            "portfolio": p.portfolio.number,
            "isin": p.instrument.isin,
            "instrument": p.instrument.name,
            "asset_class": p.instrument.asset_class,
            "quantity": _plain(p.quantity),
            "price": _plain(p.price),
            "price_currency": p.instrument.currency,
            "price_date": _plain(p.price_date),
            "market_value": _plain(p.market_value),
            "cost": _plain(p.cost),
            "unrealised_gain": _plain(p.unrealised),
            "currency": p.portfolio.currency,
        }
        for p in holdings.positions
    ]
    transactions = [
        {
            "id": t.external_id,
            "portfolio": t.portfolio.number,
            "type": t.type,
            "trade_date": _plain(t.trade_date),
            "isin": t.instrument.isin if t.instrument else None,
            "instrument": t.instrument.name if t.instrument else None,
            "quantity": _plain(t.quantity),
            "price": _plain(t.price),
            "amount": _plain(t.amount),
            "currency": t.currency,
        }
        for t in selectors.transactions_of(client=client).order_by("trade_date", "id").iterator(chunk_size=2000)
    ]
    data = {
        "portfolios": portfolios,
        "positions_on": _plain(holdings.day),
        "positions": positions,
        "transactions": transactions,
    }
    return data, []


EXPORT_PART = DataExportPart(key="portfolios", build=portfolios_export_part, order=20)
