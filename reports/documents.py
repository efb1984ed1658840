"""The figures of each report, gathered from the selectors, and the hash that pins them down.

Each builder returns a plain dict (Decimals, dates, strings) that the PDF template renders and
that `inputs_hash` hashes as canonical JSON with the kind, subject, period and method version:
the same request over the same data gives the same hash.
"""

import hashlib
import json
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from intermediaries import performance
from intermediaries.models import AssetClass
from intermediaries.selectors import NO_FIGURES, performance_of, positions_of, transactions_of

from . import costs
from .costs import inducements_source
from .models import Report

# Part of every input hash: bump it when a figure is computed or laid out differently, so a
# statement made by the new method never shares a hash with one made by the old.
# 2026.3: returns cumulative plus p.a. where given; reversed bookings and fee refunds in the costs.
METHOD = "pz-reports-2026.3"
CENT = Decimal("0.01")
ZERO = Decimal(0)


def _performance(client, start, end) -> dict:
    """The client's performance over the period, or an empty one when the period misses their history."""
    try:
        return performance_of(client=client, start=start, end=end)
    except performance.PerformanceInputError:
        # The period lies before the first or after the last valuation: nothing to measure.
        return {"start": None, "end": None, **NO_FIGURES, "series": []}


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
            "returns": _returns(perf),
        },
        "fees": costs.service_costs(client, start, end),
    }


def costs_and_charges(report: Report) -> dict:
    """The ex-post costs and charges of MiFID II (Art. 50 of Delegated Regulation 2017/565): service
    costs, product costs and third-party payments, each in EUR and in percent of the average invested
    amount, and what the costs did to the return. See `reports.costs` for what each figure holds."""
    client, start, end = report.client, report.period_start, report.period_end
    perf = _performance(client, start, end)
    values = [p["value"] for p in perf["series"]]
    average = (sum(values, ZERO) / len(values)) if values else ZERO
    service = costs.service_costs(client, start, end)
    product = costs.product_costs(client, start, end)
    payments = costs.third_party_payments(client, start, end)
    total = service["total"] + product["total"]
    total_ratio = _ratio(total, average)
    twr = perf["twr"]
    rows = [
        {"key": "transaction", "amount": service["transaction"], "percent": _ratio(service["transaction"], average)},
        {"key": "service", "amount": service["service"], "percent": _ratio(service["service"], average)},
        # Subtracted from the service costs; ZERO - x, as -x of no refunds would print as -0.00.
        {"key": "refunds", "amount": ZERO - service["refunds"], "percent": _ratio(ZERO - service["refunds"], average)},
        {"key": "service_total", "amount": service["total"], "percent": _ratio(service["total"], average)},
        {"key": "product", "amount": product["total"], "percent": _ratio(product["total"], average)},
    ]
    return {
        "client": _client(client),
        "average_capital": _cents(average),
        "valuation_days": len(values),
        "rows": rows,
        "funds": product["funds"],
        "costs_total": total,
        "total_percent": total_ratio,
        "third_party": {
            "available": payments["available"],
            "total": payments["total"],
            "percent": _ratio(payments["total"], average),
            "by_kind": [{**row, "percent": _ratio(row["amount"], average)} for row in payments["by_kind"]],
        },
        "taxes": service["taxes"],
        "cost_bookings": service["bookings"],
        # The illustration: the return the portfolios made after every cost, and about what they
        # would have made without (the costs added back as a share of the average invested amount).
        "illustration": {
            "return_after": twr,
            "costs_percent": total_ratio,
            "return_before": (twr + total_ratio) if twr is not None and total_ratio is not None else None,
            "costs": total,
        },
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


RETURN_KEYS = ("twr", "twr_annualised", "mwr", "mwr_annualised")


def _returns(perf: dict) -> list[dict]:
    """The period's returns as `performance_of` gives them, each with the key its label is chosen by
    (reports/pdf/_return_label.html): the time- and money-weighted returns cumulative over the
    period, and each annualised only where the selectors give it (a period of a year or more)."""
    return [
        {"key": key, "value": perf[key]}
        for key in RETURN_KEYS
        if not key.endswith("_annualised") or perf[key] is not None
    ]


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
