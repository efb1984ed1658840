"""Writes of the broker workspace: keeping the precomputed valuations in step with the feed."""

from datetime import date

from django.db import transaction
from django.db.models import Q

from .models import Holding, Portfolio, Transaction

# Portfolios per Celery task: big enough to amortise start-up, small enough to retry cheaply.
REVALUE_CHUNK = 200


def portfolios_affected_by_prices(*, instrument_ids=None, since: date) -> set[int]:
    """Portfolios that held (or trade) an instrument whose prices or FX changed on or after `since`."""
    holdings = Holding.objects.filter(Q(valid_to__isnull=True) | Q(valid_to__gt=since))
    if instrument_ids is not None:
        holdings = holdings.filter(instrument_id__in=instrument_ids)
    return set(holdings.values_list("portfolio_id", flat=True).distinct())


def valuations_refresh_queue(*, portfolio_ids) -> int:
    """Queue revaluation of these portfolios in chunks once the current transaction commits."""
    from .tasks import portfolios_revalue

    ids = sorted(set(portfolio_ids))
    chunks = [ids[i : i + REVALUE_CHUNK] for i in range(0, len(ids), REVALUE_CHUNK)]
    for chunk in chunks:
        transaction.on_commit(lambda chunk=chunk: portfolios_revalue.delay(chunk))
    return len(chunks)


def valuations_after_import(report) -> int:
    """After a feed import: revalue the portfolios whose bookings changed, and those hit by new prices/FX."""
    affected = set(report.affected_portfolios)
    changed = [d for d in (report.prices_changed_since, report.fx_changed_since) if d is not None]
    prices_since = min(changed, default=None)
    if prices_since is not None:
        affected |= portfolios_affected_by_prices(since=prices_since)
        # Portfolios never valued yet (new) need a first run too.
        affected |= set(Portfolio.objects.filter(valued_on__isnull=True).values_list("pk", flat=True))
        affected |= set(
            Transaction.objects.filter(trade_date__gte=prices_since).values_list("portfolio_id", flat=True).distinct()
        )
    return valuations_refresh_queue(portfolio_ids=affected)
