"""Precomputed valuations: load a portfolio's bookings, replay them, store the daily figures.

Pages never replay transactions; they read `Valuation`, `Holding` and `BookValuation`, which
these functions (run by Celery after each import and each new price day) keep current.
"""

import dataclasses
import logging
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import BooleanField, Case, Exists, F, OuterRef, Q, Subquery, Value, When
from django.utils import timezone

from . import performance
from .market_data import MarketData, _last_on_or_before, _to_eur
from .models import (
    Allocation,
    Holding,
    Instrument,
    Portfolio,
    Transaction,
    TransactionType,
    Valuation,
)
from .rollups import roll_up

logger = logging.getLogger(__name__)

ZERO = Decimal("0")
ONE = Decimal("1")
VALUATION_FIELDS = [
    "portfolio",
    "date",
    "market_value",
    "cash",
    "inflow",
    "outflow",
    "daily_return",
    "twr_index",
    "flags",
    "market_value_eur",
    "inflow_eur",
    "outflow_eur",
    "internal_inflow_eur",
    "internal_outflow_eur",
]
# Transfers between portfolios hand on cost bases; each round revalues the receivers of the last.
FOLLOW_UP_ROUNDS = 10
HOLDING_FIELDS = ["portfolio", "instrument", "valid_from", "valid_to", "quantity", "cost"]
ALLOCATION_FIELDS = ["portfolio", "asset_class", "market_value_eur"]
CENT = Decimal("0.01")
RETURN_PLACES = Decimal("0.000000000001")


def _allocation(*, spans, cash, day, prices, instrument_class, instrument_currency, fx, portfolio_currency):
    """Latest value per asset class in EUR: open holdings at the last known price, plus cash."""
    values: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for span in spans:
        if span.valid_to is not None or not span.quantity:
            continue
        close = _last_on_or_before(prices.get(span.instrument_id, []), day) or ZERO
        currency = instrument_currency[span.instrument_id]
        values[instrument_class[span.instrument_id]] += _to_eur(span.quantity * close, currency, day, fx)
    if cash:
        values["cash"] += _to_eur(cash, portfolio_currency, day, fx)
    return {k: v.quantize(CENT) for k, v in values.items() if v.quantize(CENT)}


def _sqlite_value(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _insert_rows(model, fields: list[str], rows: list[tuple]) -> None:
    """Insert many rows fast: COPY on PostgreSQL, one executemany elsewhere.

    The ORM's bulk_create spends most of a revaluation preparing values field by field; these
    rows are plain numbers and dates that need none of that.
    """
    if not rows:
        return
    # Table and column names come from the model's own metadata, never from input.
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(model._meta.get_field(f).column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            rows = [tuple(_sqlite_value(v) for v in row) for row in rows]
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", rows)  # noqa: S608


# A booking's columns are named as the fields of `Txn`, in its order: a row builds one directly.
# The last three are computed (`_booking_annotations`), under names no column has.
BOOKING_FIELDS = tuple(field.name for field in dataclasses.fields(performance.Txn))
_COMPUTED = {
    "internal": "booking_internal",
    "carried_cost": "booking_carried_cost",
    "carried_currency": "booking_carried_ccy",
}
_BOOKING_COLUMNS = tuple(_COMPUTED.get(name, name) for name in BOOKING_FIELDS)


def _reversed():
    """The booking has a reversal: both are left out of every valuation, whatever their dates."""
    return Exists(Transaction.objects.filter(reference=OuterRef("pk"), type=TransactionType.REVERSAL))


def _booking_annotations() -> dict:
    """What a booking needs from the other leg of a transfer between two portfolios of one client.

    A sending leg is internal once a receiving leg (not reversed) refers to it; a receiving leg
    takes on the cost basis the sending leg gave up (None until its portfolio was valued), in the
    sending portfolio's currency. The subqueries run only for the transfer rows (CASE).
    """
    received = Transaction.objects.filter(reference=OuterRef("pk"), type=TransactionType.TRANSFER_IN).filter(
        ~_reversed()
    )
    sender = Transaction.objects.filter(pk=OuterRef("reference_id"))
    receiving = Q(type=TransactionType.TRANSFER_IN, reference__isnull=False)
    return {
        "booking_internal": Case(
            When(receiving, then=Value(True)),
            When(type=TransactionType.TRANSFER_OUT, then=Exists(received)),
            default=Value(False),
            output_field=BooleanField(),
        ),
        "booking_carried_cost": Case(When(receiving, then=Subquery(sender.values("transfer_cost")[:1]))),
        "booking_carried_ccy": Case(When(receiving, then=Subquery(sender.values("portfolio__currency")[:1]))),
    }


def _bookings(portfolio_id: int, *conditions, **filters) -> list[performance.Txn]:
    """The portfolio's bookings that count, in booking order: reversals and what they cancel left out."""
    rows = (
        Transaction.objects.filter(*conditions, portfolio_id=portfolio_id, **filters)
        .exclude(type=TransactionType.REVERSAL)
        .filter(~_reversed())
        .annotate(**_booking_annotations())
        .order_by("trade_date", "id")
    )
    return [performance.Txn(*row) for row in rows.values_list(*_BOOKING_COLUMNS)]


def _booking_currencies(bookings) -> set[str]:
    """Every currency a replay of these bookings converts from."""
    return {b.currency for b in bookings} | {b.carried_currency for b in bookings if b.carried_currency}


def _instruments(instrument_ids) -> tuple[dict[int, str], dict[int, str]]:
    """Each instrument's currency and asset class, by id."""
    if not instrument_ids:
        return {}, {}
    instruments = list(
        Instrument.objects.filter(pk__in=instrument_ids).values_list("id", "currency", "asset_class", named=True)
    )
    return {i.id: i.currency for i in instruments}, {i.id: i.asset_class for i in instruments}


def _valuation_rows(portfolio_id: int, currency: str, days, fx) -> list[tuple]:
    eur = currency == "EUR"
    rows = []
    for day in days:
        to_eur = ONE if eur else ONE / performance.rate_on(fx, currency, day.date)
        rows.append(
            (
                portfolio_id,
                day.date,
                day.market_value.quantize(CENT),
                day.cash.quantize(CENT),
                day.inflow.quantize(CENT),
                day.outflow.quantize(CENT),
                day.daily_return.quantize(RETURN_PLACES),
                day.twr_index.quantize(RETURN_PLACES),
                day.flags,
                (day.market_value * to_eur).quantize(CENT),
                (day.inflow * to_eur).quantize(CENT),
                (day.outflow * to_eur).quantize(CENT),
                (day.internal_inflow * to_eur).quantize(CENT),
                (day.internal_outflow * to_eur).quantize(CENT),
            )
        )
    return rows


def _holding_rows(portfolio_id: int, spans) -> list[tuple]:
    return [
        (portfolio_id, span.instrument_id, span.valid_from, span.valid_to, span.quantity, span.cost.quantize(CENT))
        for span in spans
    ]


def _store_latest(portfolio_id: int, allocation: dict, *, valued_on: date | None, market_value: Decimal) -> None:
    """The portfolio's allocation and its latest value, replacing the previous ones."""
    Allocation.objects.filter(portfolio_id=portfolio_id).delete()
    _insert_rows(Allocation, ALLOCATION_FIELDS, [(portfolio_id, k, v) for k, v in allocation.items()])
    Portfolio.objects.filter(pk=portfolio_id).update(market_value=market_value, valued_on=valued_on)


def portfolio_revalue(
    *,
    portfolio_id: int,
    until: date | None = None,
    since: date | None = None,
    market: MarketData | None = None,
    follow_up: dict[int, date] | None = None,
) -> int:
    """Value one portfolio up to `until` (default: yesterday) and store its figures. Returns the days written.

    Without `since`, the bookings are replayed from the first one and every stored row of the
    portfolio is replaced. With `since` -- the earliest day whose valuation may have changed (a
    new price day, a booking or a correction dated that day) -- the replay resumes from the stored
    day before it: rows before that day stay, the rest is replaced, and the figures are the same as
    a full replay's (see `performance.value_portfolio`). When nothing is stored before `since`
    (a new portfolio, or `since` on or before the first booking) it is a full replay all the same.

    `market` shares closes and rates between the portfolios of one run. The portfolio row is
    locked for the whole run, so two runs for one portfolio never interleave.

    A transfer to another portfolio of the same client hands that portfolio the cost basis it
    took out (`Transaction.transfer_cost`). When that figure changed, the receiving portfolio is
    noted in `follow_up` (portfolio id -> the transfer's day) to be revalued after this one.
    """
    until = until or timezone.localdate() - timedelta(days=1)
    market = market or MarketData()
    with transaction.atomic():
        if since is None:
            currency = Portfolio.objects.select_for_update().values_list("currency", flat=True).get(pk=portfolio_id)
            days, carried = _revalue_full(portfolio_id, currency, until, market)
        else:
            start = min(since, until + timedelta(days=1))
            state = _stored_state(portfolio_id, start)
            resumable = state.day is not None and state.first_booking is not None and state.first_booking <= state.day
            if not resumable or start <= state.first_booking:
                days, carried = _revalue_full(portfolio_id, state.currency, until, market)
            else:
                days, carried = _revalue_from(portfolio_id, state, until, market)
        _carried_costs_store(carried, follow_up)
    return days


def _earliest(days: dict[int, date], key: int, day: date) -> None:
    if key not in days or day < days[key]:
        days[key] = day


def _carried_costs_store(carried: dict[int, Decimal], follow_up: dict[int, date] | None) -> None:
    """Store the cost basis each sending leg of an internal transfer gave up, where it changed.

    The receiving leg's portfolio values its units at that cost, so it is noted in `follow_up`
    from the transfer's day on.
    """
    if not carried:
        return
    stored = dict(Transaction.objects.filter(pk__in=carried).values_list("pk", "transfer_cost"))
    changed = [pk for pk, cost in carried.items() if stored.get(pk) != cost]
    for pk in changed:
        Transaction.objects.filter(pk=pk).update(transfer_cost=carried[pk])
    if changed and follow_up is not None:
        receivers = Transaction.objects.filter(reference_id__in=changed, type=TransactionType.TRANSFER_IN)
        for receiver_id, day in receivers.values_list("portfolio_id", "trade_date"):
            _earliest(follow_up, receiver_id, day)


def _stored_state(portfolio_id: int, start: date):
    """Lock the portfolio; its currency, first booking day, last stored day, and the stored day before `start`.

    A named row: `currency`, `first_booking`, `last_stored`, and of the stored day `day`,
    `day_value`, `day_cash`, `day_index` (all None when there is none).
    """
    before = Valuation.objects.filter(portfolio_id=OuterRef("pk"), date__lt=start).order_by("-date")
    return (
        Portfolio.objects.select_for_update()
        .filter(pk=portfolio_id)
        .annotate(
            first_booking=Subquery(
                Transaction.objects.filter(portfolio_id=OuterRef("pk")).order_by("trade_date").values("trade_date")[:1]
            ),
            last_stored=Subquery(
                Valuation.objects.filter(portfolio_id=OuterRef("pk")).order_by("-date").values("date")[:1]
            ),
            day=Subquery(before.values("date")[:1]),
            day_value=Subquery(before.values("market_value")[:1]),
            day_cash=Subquery(before.values("cash")[:1]),
            day_index=Subquery(before.values("twr_index")[:1]),
        )
        .values_list(
            "currency", "first_booking", "last_stored", "day", "day_value", "day_cash", "day_index", named=True
        )
        .get()
    )


def _revalue_full(portfolio_id: int, currency: str, until: date, market: MarketData) -> tuple[int, dict]:
    bookings = _bookings(portfolio_id, trade_date__lte=until)
    instrument_ids = {b.instrument_id for b in bookings if b.instrument_id}
    instrument_currency, instrument_class = _instruments(instrument_ids)
    prices = market.prices(instrument_ids, until) if bookings else {}
    fx = market.fx({currency, *instrument_currency.values(), *_booking_currencies(bookings)}, until)
    history = (
        performance.value_portfolio(
            currency=currency,
            transactions=bookings,
            prices=prices,
            instrument_currency=instrument_currency,
            fx=fx,
            until=until,
        )
        if bookings
        else None
    )
    days = history.days if history else []
    spans = history.holdings if history else []
    last = days[-1] if days else None
    allocation = (
        _allocation(
            spans=spans,
            cash=last.cash,
            day=last.date,
            prices=prices,
            instrument_class=instrument_class,
            instrument_currency=instrument_currency,
            fx=fx,
            portfolio_currency=currency,
        )
        if last
        else {}
    )
    Valuation.objects.filter(portfolio_id=portfolio_id).delete()
    Holding.objects.filter(portfolio_id=portfolio_id).delete()
    _insert_rows(Valuation, VALUATION_FIELDS, _valuation_rows(portfolio_id, currency, days, fx))
    _insert_rows(Holding, HOLDING_FIELDS, _holding_rows(portfolio_id, spans))
    _store_latest(
        portfolio_id,
        allocation,
        valued_on=last.date if last else None,
        market_value=last.market_value.quantize(CENT) if last else ZERO,
    )
    return len(days), history.carried_costs if history else {}


def _open_holdings(portfolio_id: int, day: date) -> list:
    """The spans open at the end of `day` (the positions a resumed replay starts from) and those after it.

    Named rows: the span's `id`, `instrument_id`, `valid_from`, `valid_to`, `quantity`, `cost`,
    and its instrument's `instrument_currency` and `instrument_class`.
    """
    return list(
        Holding.objects.filter(Q(valid_from__gt=day) | Q(valid_to__isnull=True) | Q(valid_to__gt=day))
        .filter(portfolio_id=portfolio_id)
        .annotate(instrument_currency=F("instrument__currency"), instrument_class=F("instrument__asset_class"))
        .values_list(
            "id",
            "instrument_id",
            "valid_from",
            "valid_to",
            "quantity",
            "cost",
            "instrument_currency",
            "instrument_class",
            named=True,
        )
    )


def _resume_positions(portfolio_id: int, open_rows: list, no_close: set[int], day: date) -> dict:
    """The positions at the end of `day`, each with its fallback price while its instrument has no close yet."""
    fallbacks = (
        performance.fallback_prices(
            _bookings(
                portfolio_id,
                Q(price__gt=0) | Q(type=TransactionType.SPLIT),
                instrument_id__in=no_close,
                trade_date__lte=day,
            ),
            through=day,
        )
        if no_close
        else {}
    )
    positions = {
        row.instrument_id: performance.ResumePosition(
            row.quantity, row.cost, row.valid_from, fallbacks.get(row.instrument_id)
        )
        for row in open_rows
    }
    for iid, fallback in fallbacks.items():
        positions.setdefault(iid, performance.ResumePosition(ZERO, ZERO, None, fallback))
    return positions


def _spans_after_resume(history, open_rows: list, day: date) -> tuple[list, list, list[int]]:
    """(spans to insert, spans open at the end, ids of stored spans to drop) after a replay resumed after `day`.

    Spans opened after `day` are replaced wholesale; of those open at its end, the ones the
    replay closed get their new end, the others are (again) open.
    """
    changed = {(s.instrument_id, s.valid_from): s for s in history.holdings if s.valid_from <= day}
    new_spans = [s for s in history.holdings if s.valid_from > day]
    open_spans = [s for s in new_spans if s.valid_to is None]
    drop_ids = []
    for row in open_rows:
        span = changed.get((row.instrument_id, row.valid_from))
        new_to = span.valid_to if span is not None else None
        if new_to is None:
            open_spans.append(performance.HoldingSpan(row.instrument_id, row.valid_from, None, row.quantity, row.cost))
        if new_to != row.valid_to:
            drop_ids.append(row.id)
            new_spans.append(performance.HoldingSpan(row.instrument_id, row.valid_from, new_to, row.quantity, row.cost))
    return new_spans, open_spans, drop_ids


def _instruments_known(rows: list, instrument_ids: set[int]) -> tuple[dict[int, str], dict[int, str]]:
    """Each instrument's currency and asset class, by id: from the holding rows, the others in one query."""
    instrument_currency = {row.instrument_id: row.instrument_currency for row in rows}
    instrument_class = {row.instrument_id: row.instrument_class for row in rows}
    missing = instrument_ids - instrument_currency.keys()
    if missing:
        more_currency, more_class = _instruments(missing)
        instrument_currency.update(more_currency)
        instrument_class.update(more_class)
    return instrument_currency, instrument_class


def _revalue_from(portfolio_id: int, state, until: date, market: MarketData) -> tuple[int, dict]:
    """Resume after the stored day `state.day`: replace the rows after it and the spans that changed."""
    currency, day = state.currency, state.day
    rows = _open_holdings(portfolio_id, day)
    open_rows = [row for row in rows if row.valid_from <= day and row.quantity]
    bookings = _bookings(portfolio_id, trade_date__gt=day, trade_date__lte=until)
    instrument_ids = {row.instrument_id for row in open_rows} | {b.instrument_id for b in bookings if b.instrument_id}
    instrument_currency, instrument_class = _instruments_known(rows, instrument_ids)
    prices = market.prices(instrument_ids, until, start=day)
    fx = market.fx({currency, *instrument_currency.values(), *_booking_currencies(bookings)}, until, start=day)
    # A position is worth its last buy or transfer price only while its instrument has no close yet.
    no_close = {i for i in instrument_ids if not prices.get(i) or prices[i][0][0] > day}
    history = performance.value_portfolio(
        currency=currency,
        transactions=bookings,
        prices=prices,
        instrument_currency=instrument_currency,
        fx=fx,
        until=until,
        resume=performance.ResumeState(
            day,
            state.day_value,
            state.day_cash,
            state.day_index,
            _resume_positions(portfolio_id, open_rows, no_close, day),
        ),
    )
    new_spans, open_spans, dropped = _spans_after_resume(history, open_rows, day)
    drop_ids = [row.id for row in rows if row.valid_from > day] + dropped
    last = history.days[-1] if history.days else None
    allocation = _allocation(
        spans=open_spans,
        cash=last.cash if last else state.day_cash,
        day=last.date if last else day,
        prices=prices,
        instrument_class=instrument_class,
        instrument_currency=instrument_currency,
        fx=fx,
        portfolio_currency=currency,
    )
    if state.last_stored > day:
        Valuation.objects.filter(portfolio_id=portfolio_id, date__gt=day).delete()
    if drop_ids:
        Holding.objects.filter(pk__in=drop_ids).delete()
    _insert_rows(Valuation, VALUATION_FIELDS, _valuation_rows(portfolio_id, currency, history.days, fx))
    _insert_rows(Holding, HOLDING_FIELDS, _holding_rows(portfolio_id, new_spans))
    _store_latest(
        portfolio_id,
        allocation,
        valued_on=last.date if last else day,
        market_value=last.market_value.quantize(CENT) if last else state.day_value,
    )
    return len(history.days), history.carried_costs


def revalue_and_roll_up(*, portfolio_ids=(), revalue_from=(), until: date | None = None) -> int:
    """Revalue portfolios, then refresh their clients' assets and the affected books. Returns the days written.

    `portfolio_ids` are replayed from their first booking; `revalue_from` holds (portfolio id,
    since) pairs, each revalued from `since` (None: from the first booking), see `portfolio_revalue`.
    A portfolio that received securities from one of these at a changed cost basis is revalued
    after them, from that transfer's day (and so on, for at most FOLLOW_UP_ROUNDS rounds).
    """
    work = [(pk, None) for pk in portfolio_ids] + [(pk, since) for pk, since in revalue_from]
    market = MarketData()
    days = 0
    revalued: list[int] = []
    for _ in range(FOLLOW_UP_ROUNDS):
        follow_up: dict[int, date] = {}
        for portfolio_id, since in work:
            days += portfolio_revalue(
                portfolio_id=portfolio_id, until=until, since=since, market=market, follow_up=follow_up
            )
            revalued.append(portfolio_id)
        work = sorted(follow_up.items())
        if not work:
            break
    else:
        logger.warning("Cost bases of internal transfers still changing after %s rounds: %s", FOLLOW_UP_ROUNDS, work)
    roll_up(portfolio_ids=list(dict.fromkeys(revalued)))
    return days
