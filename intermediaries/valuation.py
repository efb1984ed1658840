"""Precomputed valuations: load a portfolio's bookings, replay them, store the daily figures.

Pages never replay transactions; they read `Valuation`, `Holding` and `BookValuation`, which
these functions (run by Celery after each import and each new price day) keep current.
"""

from bisect import bisect_right
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import F, Sum
from django.utils import timezone

from clients.models import Client

from . import performance
from .models import Allocation, BookValuation, FxRate, Holding, Instrument, Portfolio, Price, Transaction, Valuation

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
]
ROLL_UP_CHUNK = 5000
HOLDING_FIELDS = ["portfolio", "instrument", "valid_from", "valid_to", "quantity", "cost"]
CENT = Decimal("0.01")
RETURN_PLACES = Decimal("0.000000000001")


def _fx_series(currencies: set[str], until: date) -> dict[str, list[tuple[date, Decimal]]]:
    series: dict[str, list[tuple[date, Decimal]]] = defaultdict(list)
    wanted = currencies - {"EUR"}
    if wanted:
        rows = FxRate.objects.filter(currency__in=wanted, date__lte=until).order_by("currency", "date")
        for currency, day, rate in rows.values_list("currency", "date", "rate"):
            series[currency].append((day, rate))
    return dict(series)


def _to_eur(amount: Decimal, currency: str, day: date, fx) -> Decimal:
    if currency == "EUR" or not amount:
        return amount
    return amount / performance.rate_on(fx, currency, day)


def _last_on_or_before(series: list[tuple[date, Decimal]], day: date) -> Decimal | None:
    i = bisect_right(series, (day, Decimal("Infinity")))
    return series[i - 1][1] if i else None


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


def portfolio_revalue(*, portfolio_id: int, until: date | None = None) -> int:
    """Replay one portfolio from its first booking and store every day's figures. Returns days stored."""
    until = until or timezone.localdate() - timedelta(days=1)
    portfolio = Portfolio.objects.get(pk=portfolio_id)
    bookings = [
        performance.Txn(*row)
        for row in Transaction.objects.filter(portfolio_id=portfolio_id, trade_date__lte=until)
        .order_by("trade_date", "id")
        .values_list("id", "type", "trade_date", "instrument_id", "quantity", "price", "amount", "currency")
    ]
    instrument_ids = {b.instrument_id for b in bookings if b.instrument_id}
    instruments = Instrument.objects.filter(pk__in=instrument_ids).values_list("id", "currency", "asset_class")
    instrument_currency = {i: c for i, c, _ in instruments}
    instrument_class = {i: a for i, _, a in instruments}
    prices: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
    if bookings:
        rows = Price.objects.filter(instrument_id__in=instrument_ids, date__lte=until).order_by("instrument_id", "date")
        for instrument_id, day, close in rows.values_list("instrument_id", "date", "close"):
            prices[instrument_id].append((day, close))
    currencies = {portfolio.currency, *instrument_currency.values(), *(b.currency for b in bookings)}
    fx = _fx_series(currencies, until)
    history = (
        performance.value_portfolio(
            currency=portfolio.currency,
            transactions=bookings,
            prices=dict(prices),
            instrument_currency=instrument_currency,
            fx=fx,
            until=until,
        )
        if bookings
        else None
    )
    days = history.days if history else []
    spans = history.holdings if history else []
    eur = portfolio.currency == "EUR"
    valuations = []
    for day in days:
        to_eur = ONE if eur else ONE / performance.rate_on(fx, portfolio.currency, day.date)
        valuations.append(
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
            )
        )
    holdings = [
        (portfolio_id, span.instrument_id, span.valid_from, span.valid_to, span.quantity, span.cost.quantize(CENT))
        for span in spans
    ]
    allocation = (
        _allocation(
            spans=spans,
            cash=days[-1].cash,
            day=days[-1].date,
            prices=prices,
            instrument_class=instrument_class,
            instrument_currency=instrument_currency,
            fx=fx,
            portfolio_currency=portfolio.currency,
        )
        if days
        else {}
    )
    with transaction.atomic():
        Valuation.objects.filter(portfolio_id=portfolio_id).delete()
        Holding.objects.filter(portfolio_id=portfolio_id).delete()
        Allocation.objects.filter(portfolio_id=portfolio_id).delete()
        _insert_rows(Valuation, VALUATION_FIELDS, valuations)
        _insert_rows(Holding, HOLDING_FIELDS, holdings)
        Allocation.objects.bulk_create(
            [Allocation(portfolio_id=portfolio_id, asset_class=k, market_value_eur=v) for k, v in allocation.items()]
        )
        last = valuations[-1] if valuations else None
        Portfolio.objects.filter(pk=portfolio_id).update(
            market_value=last[2] if last else ZERO, valued_on=last[1] if last else None
        )
    return len(valuations)


def client_assets_refresh(*, client_ids) -> None:
    """Keep each client's total assets (EUR, latest valuation of each portfolio) for lists and sorting."""
    totals = dict(
        Valuation.objects.filter(portfolio__client_id__in=client_ids, date=F("portfolio__valued_on"))
        .values("portfolio__client_id")
        .annotate(total=Sum("market_value_eur"))
        .values_list("portfolio__client_id", "total")
    )
    clients = list(Client.objects.filter(pk__in=client_ids).only("pk"))
    for client in clients:
        client.assets = totals.get(client.pk) or ZERO
        client.assets_currency = "EUR"
    Client.objects.bulk_update(clients, ["assets", "assets_currency"], batch_size=2000)


def book_revalue(*, advisor_id: int | None = None, firm_id: int | None = None) -> int:
    """Chain-link a broker's (or a firm's) whole book from the stored portfolio valuations, in EUR."""
    scope = (
        {"portfolio__client__advisor_id": advisor_id}
        if advisor_id
        else {"portfolio__client__advisor__organisation_id": firm_id}
    )
    rows = (
        Valuation.objects.filter(**scope)
        .values("date")
        .annotate(value=Sum("market_value_eur"), inflow=Sum("inflow_eur"), outflow=Sum("outflow_eur"))
        .order_by("date")
    )
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


def client_series(*, client_id: int, portfolio_id: int | None = None):
    """A client's (or one portfolio's) daily series in EUR, chain-linked from stored valuations."""
    rows = Valuation.objects.filter(portfolio__client_id=client_id)
    if portfolio_id:
        rows = rows.filter(portfolio_id=portfolio_id)
    rows = (
        rows.values("date")
        .annotate(value=Sum("market_value_eur"), inflow=Sum("inflow_eur"), outflow=Sum("outflow_eur"))
        .order_by("date")
    )
    return performance.chain_link([(r["date"], r["value"], r["inflow"], r["outflow"]) for r in rows])


def revalue_and_roll_up(*, portfolio_ids) -> int:
    """Revalue portfolios, then refresh their clients' assets and the affected books."""
    days = 0
    for portfolio_id in portfolio_ids:
        days += portfolio_revalue(portfolio_id=portfolio_id)
    roll_up(portfolio_ids=portfolio_ids)
    return days


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
    for advisor_id in advisor_ids:
        book_revalue(advisor_id=advisor_id)
    for firm_id in firm_ids:
        book_revalue(firm_id=firm_id)
