"""What a client paid in a period, for the ex-post costs and charges statement (MiFID II, Art. 50 of
Delegated Regulation (EU) 2017/565) and the fees section of the portfolio statement.

- Service costs: the fee bookings of the client's portfolios less the fees refunded. The core feed
  books a trade's fee as a separate `fee` row on the trade's day (docs/core-feed.md), so a fee booked
  on a day with a buy or sell in the same portfolio counts as a transaction cost; every other fee
  (custody, account, advisory) as a fee for the ongoing service. The feed has no finer kind of fee.
  A `fee_refund` names no fee, so the refunds of the period are their own line, subtracted from
  the service costs. A booking that was reversed (a `reversal` refers to it) counts as never
  booked, as in the performance figures: a reversed fee, refund, tax or trade is left out, even
  when the reversal came after the period.
- Product costs: the ongoing charges (TER) of the funds and ETFs held, accrued day by day on the
  position's value in EUR: value × TER / days of that year, for every calendar day of the period the
  position was held (at the last close on or before the day). Instruments without a TER add nothing.
- Third-party payments: the commissions accrued to the intermediary for the client's business,
  through the provider that `commissions` registers (a sibling app, never imported).

Every amount is in EUR, converted at the booking day's (or valuation day's) rate.
"""

import calendar
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q

from intermediaries import performance
from intermediaries.market_data import MarketData, fx_series
from intermediaries.models import Holding, TransactionType
from intermediaries.performance.fx import ForwardSeries
from intermediaries.selectors import transactions_of
from portal.core.providers import ProviderMissing, provider

ZERO = Decimal(0)
CENT = Decimal("0.01")
TRADES = (TransactionType.BUY, TransactionType.SELL)
CHARGES = (TransactionType.FEE, TransactionType.FEE_REFUND, TransactionType.TAX)

# What `commissions` offers (registered in its AppConfig.ready(); sibling apps do not import each other):
# accruals_for_disclosure(*, start, end, beneficiary_id=None, client_id=None) -> list of rows.
COMMISSIONS_FOR_DISCLOSURE = "commissions.disclosure"


def inducements_source():
    return provider(COMMISSIONS_FOR_DISCLOSURE)


def service_costs(client, start: date, end: date) -> dict:
    """Fees, refunds and taxes booked in the period, in EUR.

    {"transaction", "service", "refunds", "total", "taxes", "bookings"}: `total` is the transaction
    costs plus the service fees less the refunds; `bookings` counts the fees.
    """
    bookings = list(
        transactions_of(client=client)
        .filter(trade_date__gte=start, trade_date__lte=end, type__in=[*CHARGES, *TRADES])
        .exclude(referenced_by__type=TransactionType.REVERSAL)
        .order_by("trade_date", "id")
        .values_list("portfolio_id", "type", "trade_date", "amount", "currency")
    )
    trade_days = {(portfolio, day) for portfolio, kind, day, _, _ in bookings if kind in TRADES}
    fx = fx_series({currency for *_, currency in bookings}, end, start)
    transaction = service = refunds = taxes = ZERO
    fees = 0
    for portfolio, kind, day, amount, currency in bookings:
        if kind in TRADES:
            continue
        eur = performance.convert(amount, currency, "EUR", day, fx)
        if kind == TransactionType.TAX:
            taxes += eur
        elif kind == TransactionType.FEE_REFUND:
            refunds += eur
        elif (portfolio, day) in trade_days:
            transaction += eur
            fees += 1
        else:
            service += eur
            fees += 1
    return {
        "transaction": cents(transaction),
        "service": cents(service),
        "refunds": cents(refunds),
        "total": cents(transaction + service - refunds),
        "taxes": cents(taxes),
        "bookings": fees,
    }


def product_costs(client, start: date, end: date) -> dict:
    """The funds' ongoing charges over the period, in EUR: {"total", "funds": [per instrument]}."""
    spans = list(
        Holding.objects.filter(portfolio__client=client, instrument__ongoing_charges__isnull=False, valid_from__lte=end)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=start))
        .exclude(quantity=0)
        .select_related("instrument", "portfolio")
        .order_by("instrument__isin", "portfolio_id", "valid_from")
    )
    if not spans:
        return {"total": ZERO, "funds": []}
    instruments = {span.instrument_id: span.instrument for span in spans}
    closes = MarketData().prices(instruments, until=end, start=start)
    fx = fx_series({i.currency for i in instruments.values()}, end, start)
    by_instrument: dict[int, Decimal] = {}
    for span in spans:
        instrument = instruments[span.instrument_id]
        rate = instrument.ongoing_charges / 100
        first = max(span.valid_from, start)
        last = min(span.valid_to - timedelta(days=1), end) if span.valid_to else end
        prices = ForwardSeries(closes.get(instrument.pk, []))
        accrued = ZERO
        day = first
        while day <= last:
            close, _exact = prices.at(day)
            if close is not None:
                value = performance.convert(span.quantity * close, instrument.currency, "EUR", day, fx)
                accrued += value * rate / _days_in_year(day.year)
            day += timedelta(days=1)
        by_instrument[instrument.pk] = by_instrument.get(instrument.pk, ZERO) + accrued
    funds = [
        {
            "isin": instruments[pk].isin,
            "instrument": instruments[pk].name,
            "ter": instruments[pk].ongoing_charges / 100,  # a fraction, as every ratio in the documents
            "amount": cents(amount),
        }
        for pk, amount in sorted(by_instrument.items(), key=lambda item: instruments[item[0]].isin)
    ]
    return {"total": cents(sum(by_instrument.values(), ZERO)), "funds": funds}


def third_party_payments(client, start: date, end: date) -> dict:
    """Commissions accrued to the intermediary for this client in the period, by kind, in EUR.

    {"available": False} when no installed app offers them (the statement then says so and shows 0).
    """
    try:
        rows = inducements_source()(start=start, end=end, client_id=client.pk)
    except ProviderMissing:
        return {"available": False, "total": ZERO, "by_kind": []}
    by_kind: dict[str, Decimal] = {}
    for row in rows:
        by_kind[row["kind_label"]] = by_kind.get(row["kind_label"], ZERO) + row["amount"]
    return {
        "available": True,
        "total": cents(sum(by_kind.values(), ZERO)),
        "by_kind": [{"kind": kind, "amount": cents(amount)} for kind, amount in sorted(by_kind.items())],
    }


def cents(value) -> Decimal:
    return (value or ZERO).quantize(CENT, ROUND_HALF_UP)


def _days_in_year(year: int) -> int:
    return 366 if calendar.isleap(year) else 365
