"""Figures rolled up from the portfolios' stored valuations: each client's total assets and daily
series, and each broker's and firm's book (chain-linked, in EUR). `valuation` writes the portfolios'
valuations and then calls `roll_up`; nothing here values a portfolio.
"""

from decimal import Decimal
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum

from clients.models import Client
from clients.services import client_assets_set_many
from portal.core.versioned_cache import data_changed_on_commit

from . import performance
from .models import BookValuation, Portfolio, Valuation

ZERO = Decimal("0")
CENT = Decimal("0.01")
RETURN_PLACES = Decimal("0.000000000001")
ROLL_UP_CHUNK = 5000


def client_assets_refresh(*, client_ids) -> None:
    """Keep each client's total assets (EUR, latest valuation of each portfolio) for lists and sorting.

    The sums are read here; the clients are written by their own app's service.
    """
    totals = dict(
        Valuation.objects.filter(portfolio__client_id__in=client_ids, date=F("portfolio__valued_on"))
        .values("portfolio__client_id")
        .annotate(total=Sum("market_value_eur"))
        .values_list("portfolio__client_id", "total")
    )
    client_assets_set_many(assets={pk: totals.get(pk) or ZERO for pk in client_ids}, currency="EUR")


# A client's or a book's flows per day: a transfer between two portfolios of one client is none.
_EXTERNAL_SUMS = {
    "value": Sum("market_value_eur"),
    "inflow": Sum(F("inflow_eur") - F("internal_inflow_eur")),
    "outflow": Sum(F("outflow_eur") - F("internal_outflow_eur")),
}


def book_revalue(*, advisor_id: int | None = None, firm_id: int | None = None) -> int:
    """Chain-link a broker's (or a firm's) whole book from the stored portfolio valuations, in EUR.

    Transfers between two portfolios of one client are no flow of the book (nor of the client).
    """
    scope = (
        {"portfolio__client__advisor_id": advisor_id}
        if advisor_id
        else {"portfolio__client__advisor__organisation_id": firm_id}
    )
    rows = Valuation.objects.filter(**scope).values("date").annotate(**_EXTERNAL_SUMS).order_by("date")
    series = performance.chain_link(
        [(r["date"], r["value"] or ZERO, r["inflow"] or ZERO, r["outflow"] or ZERO) for r in rows]
    )
    key = {"advisor_id": advisor_id} if advisor_id else {"firm_id": firm_id}
    with transaction.atomic():
        BookValuation.objects.filter(**key).delete()
        BookValuation.objects.bulk_create(
            [
                BookValuation(
                    **key,
                    date=day.date,
                    market_value=day.market_value.quantize(CENT),
                    inflow=day.inflow.quantize(CENT),
                    outflow=day.outflow.quantize(CENT),
                    daily_return=day.daily_return.quantize(RETURN_PLACES),
                    twr_index=day.twr_index.quantize(RETURN_PLACES),
                )
                for day in series
            ],
            batch_size=2000,
        )
    return len(series)


def client_series(*, client_id: int):
    """A client's daily series in EUR, chain-linked from the stored valuations of all their portfolios.

    Transfers between two of their portfolios are no flow of the client: they are left out.
    """
    rows = (
        Valuation.objects.filter(portfolio__client_id=client_id)
        .values("date")
        .annotate(**_EXTERNAL_SUMS)
        .order_by("date")
    )
    return performance.chain_link([(r["date"], r["value"], r["inflow"], r["outflow"]) for r in rows])


def roll_up(*, portfolio_ids) -> None:
    """After portfolios were revalued: their clients' totals, and their brokers' and firms' books."""
    portfolio_ids = list(portfolio_ids)
    advisor_ids, firm_ids = set(), set()
    # Chunks keep every IN list well below the database's parameter limits.
    for i in range(0, len(portfolio_ids), ROLL_UP_CHUNK):
        chunk = portfolio_ids[i : i + ROLL_UP_CHUNK]
        client_ids = set(Portfolio.objects.filter(pk__in=chunk).values_list("client_id", flat=True))
        client_assets_refresh(client_ids=client_ids)
        for advisor_id, firm_id in Client.objects.filter(pk__in=client_ids, advisor__isnull=False).values_list(
            "advisor_id", "advisor__organisation_id"
        ):
            advisor_ids.add(advisor_id)
            if firm_id:
                firm_ids.add(firm_id)
    _books_revalue(advisor_ids, firm_ids)


def _books_revalue(advisor_ids: set, firm_ids: set) -> None:
    """Recompute these books; cached figures are out of date then, and once committed the affected
    dashboards are computed afresh."""
    for advisor_id in advisor_ids:
        book_revalue(advisor_id=advisor_id)
    for firm_id in firm_ids:
        book_revalue(firm_id=firm_id)
    from .tasks import dashboards_warm  # tasks import this module

    data_changed_on_commit()
    if settings.PORTAL_FIGURES_CACHE and (advisor_ids or firm_ids):
        # robust: a broker outage after the commit must not fail the revaluation that just succeeded.
        transaction.on_commit(partial(dashboards_warm.delay, sorted(advisor_ids), sorted(firm_ids)), robust=True)


def books_revalue(*, advisor_ids) -> int:
    """Recompute the books of these brokers and of the firms they work for."""
    from django.contrib.auth import get_user_model

    firms = set(
        get_user_model()
        .objects.filter(pk__in=advisor_ids, organisation__isnull=False)
        .values_list("organisation_id", flat=True)
    )
    _books_revalue(set(advisor_ids), firms)
    return len(advisor_ids) + len(firms)
