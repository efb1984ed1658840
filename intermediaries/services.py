"""Writes of the broker workspace: keeping the precomputed valuations in step with the feed."""

from collections import defaultdict
from datetime import date

from django.db import transaction
from django.db.models import Q

from .models import Holding, Instrument, Portfolio, Transaction, TransactionType

# Portfolios per Celery task: big enough to amortise start-up, small enough to retry cheaply.
REVALUE_CHUNK = 200
# Bookings valued at the day's close when they state no amount.
_AT_MARKET = (TransactionType.TRANSFER_IN, TransactionType.TRANSFER_OUT)


def portfolios_affected_by_prices(*, instrument_ids=None, since: date) -> set[int]:
    """Portfolios whose value depends on a close of one of these instruments on or after `since`.

    Those holding one at the end of a day on or after `since` (a span closed on `since` counts:
    a transfer out that day is valued at its close) and those with a transfer of one on or after
    `since`. Without `instrument_ids`, any instrument.
    """
    holdings = Holding.objects.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=since))
    transfers = Transaction.objects.filter(type__in=_AT_MARKET, trade_date__gte=since)
    if instrument_ids is not None:
        holdings = holdings.filter(instrument_id__in=instrument_ids)
        transfers = transfers.filter(instrument_id__in=instrument_ids)
    return set(holdings.values_list("portfolio_id", flat=True).distinct()) | set(
        transfers.values_list("portfolio_id", flat=True).distinct()
    )


def portfolios_affected_by_fx(*, currencies, since: date) -> set[int]:
    """Portfolios whose figures use an FX rate of one of these currencies on or after `since`.

    Those holding an instrument quoted in one, those with a booking in one on or after `since`,
    and those kept in one with stored days on or after `since` (their EUR figures).
    """
    instrument_ids = Instrument.objects.filter(currency__in=currencies).values_list("pk", flat=True)
    affected = portfolios_affected_by_prices(instrument_ids=instrument_ids, since=since)
    affected |= set(
        Transaction.objects.filter(currency__in=currencies, trade_date__gte=since)
        .values_list("portfolio_id", flat=True)
        .distinct()
    )
    affected |= set(
        Portfolio.objects.filter(currency__in=currencies, valued_on__gte=since).values_list("pk", flat=True)
    )
    return affected


def _earliest(since: dict[int, date | None], portfolio_id: int, day: date | None) -> None:
    """Keep the earlier day per portfolio; None (from the first booking) beats any day."""
    if portfolio_id in since:
        current = since[portfolio_id]
        if current is None or (day is not None and current <= day):
            return
    since[portfolio_id] = day


def _by_day(changes: dict) -> dict[date, set]:
    keys_by_day: dict[date, set] = defaultdict(set)
    for key, day in changes.items():
        keys_by_day[day].add(key)
    return keys_by_day


def valuations_affected(report) -> dict[int, date | None]:
    """What an import changed for the valuations: portfolio id -> the earliest day to revalue from.

    None means from the first booking (a portfolio never valued yet). Bookings give their
    portfolio and day (`report.affected_portfolios`); a close of an instrument from day d on
    (`report.price_changes`) affects its holders from d, an FX rate (`report.fx_changes`) the
    portfolios that hold, book or are kept in that currency from d. Other portfolios are left alone.
    """
    since: dict[int, date | None] = {}
    for portfolio_id, day in report.affected_portfolios.items():
        _earliest(since, portfolio_id, day)

    for day, instrument_ids in _by_day(report.price_changes).items():
        for portfolio_id in portfolios_affected_by_prices(instrument_ids=instrument_ids, since=day):
            _earliest(since, portfolio_id, day)
    for day, currencies in _by_day(report.fx_changes).items():
        for portfolio_id in portfolios_affected_by_fx(currencies=currencies, since=day):
            _earliest(since, portfolio_id, day)

    if report.prices_changed_since is not None or report.fx_changed_since is not None:
        # Portfolios never valued yet (new) need a first run too.
        for portfolio_id in Portfolio.objects.filter(valued_on__isnull=True).values_list("pk", flat=True):
            _earliest(since, portfolio_id, None)
    return since


def valuations_refresh_queue(*, portfolio_ids=(), revalue_from=None) -> int:
    """Queue revaluation in chunks once the current transaction commits. Returns the number of tasks.

    `portfolio_ids` are replayed from their first booking; `revalue_from` maps portfolio ids to the
    day to revalue from (None: the first booking). Each task gets [portfolio id, since] pairs.
    """
    from .tasks import portfolios_revalue

    since: dict[int, date | None] = {}
    for portfolio_id in portfolio_ids:
        _earliest(since, portfolio_id, None)
    for portfolio_id, day in (revalue_from or {}).items():
        _earliest(since, portfolio_id, day)
    work = [[pk, day.isoformat() if day else None] for pk, day in sorted(since.items())]
    chunks = [work[i : i + REVALUE_CHUNK] for i in range(0, len(work), REVALUE_CHUNK)]
    for chunk in chunks:
        transaction.on_commit(lambda chunk=chunk: portfolios_revalue.delay(chunk))
    return len(chunks)


def valuations_after_import(report) -> int:
    """After a feed import: revalue each affected portfolio from the earliest day the import changed.

    A client who moved to another broker leaves the old broker's book too: those books are
    recomputed once the revaluations are queued.
    """
    queued = valuations_refresh_queue(revalue_from=valuations_affected(report))
    advisors = sorted(report.affected_advisors)
    if advisors:
        from .tasks import books_revalue

        transaction.on_commit(lambda: books_revalue.delay(advisors))
    return queued
