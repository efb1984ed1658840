"""The figures of each report, gathered from the selectors, and the hash that pins them down.

Each builder returns a plain dict (Decimals, dates, strings) that the PDF template renders and
that `inputs_hash` hashes as canonical JSON with the kind, subject, period and method version:
the same request over the same data gives the same hash.
"""

import hashlib
import json
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from intermediaries import performance
from intermediaries.models import AssetClass, TransactionType
from intermediaries.selectors import performance_of, positions_of, transactions_of
from intermediaries.valuation import fx_series
from portal.core.providers import provider

from .models import Report

METHOD = "pz-reports-2026.1"
CENT = Decimal("0.01")
ZERO = Decimal(0)
COST_TYPES = (TransactionType.FEE,)


def _performance(client, start, end) -> dict:
    """The client's performance over the period, or an empty one when the period misses their history."""
    try:
        return performance_of(client=client, start=start, end=end)
    except performance.PerformanceInputError:
        # The period lies before the first or after the last valuation: nothing to measure.
        return {"start": None, "end": None, "twr": None, "mwr": None, "series": []}


# What `commissions` offers (registered in its AppConfig.ready(); sibling apps do not import each other):
# accruals_for_disclosure(*, start, end, beneficiary_id=None, client_id=None) -> list of rows.
COMMISSIONS_FOR_DISCLOSURE = "commissions.disclosure"


def inducements_source():
    return provider(COMMISSIONS_FOR_DISCLOSURE)


def document_build(report: Report) -> dict:
    builders = {
        Report.Kind.STATEMENT: portfolio_statement,
        Report.Kind.COSTS: costs_and_charges,
        Report.Kind.INDUCEMENTS: inducements_disclosure,
    }
    return builders[report.kind](report)


def inputs_hash(report: Report, document: dict) -> str:
    envelope = {
        "method": METHOD,
        "kind": report.kind,
        "client": report.client.number if report.client_id else None,
        "broker": report.broker.email if report.broker_id else None,
        "period": [report.period_start, report.period_end],
        "figures": document,
    }
    canonical = json.dumps(envelope, sort_keys=True, separators=(",", ":"), default=_plain, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


# --- the reports ------------------------------------------------------------------------------


def portfolio_statement(report: Report) -> dict:
    client, start, end = report.client, report.period_start, report.period_end
    positions = positions_of(client=client, on=end)
    perf = _performance(client, start, end)
    series = perf["series"]
    bookings = list(
        transactions_of(client=client).filter(trade_date__gte=start, trade_date__lte=end).order_by("trade_date", "id")
    )
    total = sum((p.market_value for p in positions), ZERO)
    return {
        "client": _client(client),
        "positions": [
            {
                "portfolio": p.portfolio.number,
                "isin": p.instrument.isin,
                "instrument": p.instrument.name,
                "asset_class": str(AssetClass(p.instrument.asset_class).label),
                "quantity": p.quantity,
                "price": p.price,
                "price_date": p.price_date,
                "currency": p.portfolio.currency,
                "market_value": _cents(p.market_value),
                "cost": _cents(p.cost),
                "weight": p.weight,
            }
            for p in positions
        ],
        "positions_total": _cents(total),
        "transactions": [
            {
                "date": t.trade_date,
                "portfolio": t.portfolio.number,
                "type": t.get_type_display(),
                "isin": t.instrument.isin if t.instrument else "",
                "instrument": t.instrument.name if t.instrument else "",
                "quantity": t.quantity,
                "price": t.price,
                "amount": t.amount,
                "currency": t.currency,
                "external_id": t.external_id,
            }
            for t in bookings
        ],
        "performance": {
            "start": perf["start"],
            "end": perf["end"],
            "value_start": _cents(series[0]["value"]) if series else None,
            "value_end": _cents(series[-1]["value"]) if series else None,
            "twr": perf["twr"],
            "mwr": perf["mwr"],
        },
    }


def costs_and_charges(report: Report) -> dict:
    """MiFID II-style ex-post costs: costs charged to the portfolios and inducements the intermediary
    received for the client's business, in EUR and in percent of the average invested capital."""
    client, start, end = report.client, report.period_start, report.period_end
    perf = _performance(client, start, end)
    values = [p["value"] for p in perf["series"]]
    average = (sum(values, ZERO) / len(values)) if values else ZERO
    bookings = list(
        transactions_of(client=client)
        .filter(trade_date__gte=start, trade_date__lte=end, type__in=[*COST_TYPES, TransactionType.TAX])
        .order_by("trade_date", "id")
    )
    fx = fx_series({t.currency for t in bookings}, end, start - timedelta(days=10))
    fees = taxes = ZERO
    for t in bookings:
        eur = performance.convert(t.amount, t.currency, "EUR", t.trade_date, fx)
        if t.type == TransactionType.TAX:
            taxes += eur
        else:
            fees += eur
    commissions = inducements_source()(start=start, end=end, client_id=client.pk)
    by_kind: dict[str, Decimal] = {}
    for row in commissions:
        by_kind[row["kind_label"]] = by_kind.get(row["kind_label"], ZERO) + row["amount"]
    inducements = sum(by_kind.values(), ZERO)
    total = fees + inducements
    rows = [
        {"label": "service_costs", "amount": _cents(fees), "percent": _ratio(fees, average)},
        *[
            {"label": "inducement", "detail": kind, "amount": _cents(amount), "percent": _ratio(amount, average)}
            for kind, amount in sorted(by_kind.items())
        ],
    ]
    return {
        "client": _client(client),
        "average_capital": _cents(average),
        "valuation_days": len(values),
        "rows": rows,
        "costs_total": _cents(fees),
        "inducements_total": _cents(inducements),
        "total": _cents(total),
        "total_percent": _ratio(total, average),
        "taxes": _cents(taxes),
        "twr": perf["twr"],
        "cost_bookings": len([t for t in bookings if t.type != TransactionType.TAX]),
    }


def inducements_disclosure(report: Report) -> dict:
    broker, start, end = report.broker, report.period_start, report.period_end
    rows = inducements_source()(start=start, end=end, beneficiary_id=broker.pk)
    by_month: dict[tuple, Decimal] = {}
    by_product: dict[str, Decimal] = {}
    by_client: dict[str, Decimal] = {}
    for row in rows:
        key = (row["month"], row["kind_label"])
        by_month[key] = by_month.get(key, ZERO) + row["amount"]
        by_product[row["product"]] = by_product.get(row["product"], ZERO) + row["amount"]
        by_client[row["client_number"]] = by_client.get(row["client_number"], ZERO) + row["amount"]
    total = sum((row["amount"] for row in rows), ZERO)
    return {
        "broker": {
            "name": broker.get_full_name() or broker.email,
            "email": broker.email,
            "firm": broker.organisation.name if broker.organisation_id else "",
        },
        "by_month": [{"month": m, "kind": k, "amount": _cents(a)} for (m, k), a in sorted(by_month.items())],
        "by_product": [{"product": p, "amount": _cents(a)} for p, a in sorted(by_product.items())],
        "by_client": [{"client_number": c, "amount": _cents(a)} for c, a in sorted(by_client.items())],
        "total": _cents(total),
        "entries": sum(row["entries"] for row in rows),
    }


# --- helpers -------------------------------------------------------------------------------


def _client(client) -> dict:
    advisor = client.advisor
    return {
        "number": client.number,
        "name": client.name,
        "street": client.street,
        "postcode": client.postcode,
        "city": client.city,
        "country": client.country,
        "advisor": (advisor.get_full_name() or advisor.email) if advisor else "",
    }


def _cents(value) -> Decimal:
    return (value or ZERO).quantize(CENT, ROUND_HALF_UP)


def _ratio(part: Decimal, whole: Decimal) -> Decimal | None:
    return (part / whole).quantize(Decimal("0.000001"), ROUND_HALF_UP) if whole else None


def _plain(value):
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
