"""The accrual engine: one broker's month from the imported transactions and daily valuations.

- Upfront: each buy, its amount in EUR (FX of the trade date) times the upfront rate that held on
  the trade date for that product (or its asset class).
- Fixed: each booking whose type a fixed rule names (a deposit, a transfer in, …), the rule's amount.
- Trailing: each day of the month, the portfolio's value in EUR (its last valuation on or before
  that day: Friday's value carries over the weekend) times the yearly rate / 365. Consecutive days
  on one valuation make one entry (`days`), split where a rule changes.
- Override: for a firm whose plan names a manager, the override rate on each of the firm's brokers'
  entries, earned by the manager.

A reversed booking earns nothing, as it counts as never booked (docs/core-feed.md): while the
month of the booking is still computed, its entries simply go on the next run, whenever the
reversal came. Once that month is frozen (its statement prepared, approved or paid), the reversal
takes the commission back in its own month: for each entry the booking earned, an entry of the
same kind with the amount negated (`rev:<entry>`), which the manager's override then follows.
A reversal itself is never a source.

A run replaces the month's entries of that broker (and the overrides derived from them) with what
the data gives now, matching rows by their source, so unchanged entries keep their ids and running
a month twice gives the same entries. A closed month is never recomputed.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Sum

from intermediaries import performance
from intermediaries.market_data import fx_series
from intermediaries.models import Transaction, TransactionType, Valuation

from .models import Accrual, CommissionMonth, Kind, Statement, month_end
from .rules import RuleBook

logger = logging.getLogger(__name__)

EIGHT = Decimal("0.00000001")
CENT = Decimal("0.01")
DAYS_PER_YEAR = Decimal(365)
# Valuations are stored Monday to Friday: this reaches the last one before the month starts and the
# first one after it ends (which bounds the last weekend of the month).
VALUATION_REACH = timedelta(days=10)
CLAWBACK = "rev:"  # the source key of an entry that takes back what a reversed booking earned
COMPARED = ("date", "days", "client_id", "portfolio_id", "instrument_id", "asset_class", "basis", "rate", "amount")
COMPARED += ("rule_id", "source_transaction_id", "source_date", "source_accrual_id", "firm_id", "period")


@dataclass
class Entry:
    kind: str
    source_key: str
    date: date
    client_id: int
    portfolio_id: int
    basis: Decimal
    amount: Decimal
    rule_id: int
    rate: Decimal | None = None
    days: int = 1
    instrument_id: int | None = None
    asset_class: str = ""
    source_transaction_id: int | None = None
    source_date: date | None = None
    source_accrual_id: int | None = None


def broker_month_accrue(*, broker_id: int, period: date, final: bool = False) -> int:
    """Recompute one broker's month; returns the number of their entries. A no-op for a closed month.

    `final` is the closing run (the month is "closing"): it computes once more under the same lock.
    """
    broker = get_user_model().objects.select_related("organisation").get(pk=broker_id)
    with transaction.atomic(durable=True):
        # The broker's statement row is the lock: one run per broker and month at a time, and the
        # closing run waits for a run in progress before it computes the last time.
        statement = statement_locked(beneficiary=broker, period=period)
        status = CommissionMonth.objects.filter(period=period).values_list("status", flat=True).first()
        allowed = (
            {CommissionMonth.Status.OPEN, CommissionMonth.Status.CLOSING} if final else {CommissionMonth.Status.OPEN}
        )
        if status not in allowed or statement.status != Statement.Status.ACCRUED:
            return 0
        book = RuleBook.for_broker(broker)
        entries = (
            _transaction_entries(broker, period, book)
            + _clawback_entries(broker, period)
            + _trailing_entries(broker, period, book)
        )
        existing = Accrual.objects.filter(beneficiary=broker, period=period).exclude(kind=Kind.OVERRIDE)
        stored = _store(beneficiary=broker, statement=statement, entries=entries, existing=existing)
        managers = _overrides_store(broker=broker, period=period, book=book, stored=stored)
        statement_totals_refresh(statement)
        for manager_statement in managers:
            statement_totals_refresh(manager_statement)
    return len(stored)


def statement_locked(*, beneficiary, period: date) -> Statement:
    """The beneficiary's statement for the month, created if missing, locked for this transaction."""
    statement, _ = Statement.objects.select_for_update().get_or_create(
        beneficiary=beneficiary, period=period, defaults={"firm_id": beneficiary.organisation_id}
    )
    return statement


def statement_totals_refresh(statement: Statement) -> Statement:
    """Totals per kind, rounded to cents, and their sum; called with the statement locked."""
    sums = {
        row["kind"]: (row["total"], row["count"])
        for row in Accrual.objects.filter(statement=statement)
        .values("kind")
        .annotate(total=Sum("amount"), count=Count("id"))
        .order_by()
    }
    for kind in Kind.values:
        setattr(statement, kind, (sums.get(kind, (Decimal(0), 0))[0] or Decimal(0)).quantize(CENT, ROUND_HALF_UP))
    statement.total = sum((getattr(statement, kind) for kind in Kind.values), Decimal(0))
    statement.accrual_count = sum(count for _, count in sums.values())
    statement.save(update_fields=[*Kind.values, "total", "accrual_count", "updated_at"])
    return statement


# --- sources ----------------------------------------------------------------------------------


def _transaction_entries(broker, period: date, book: RuleBook) -> list[Entry]:
    start, end = period, month_end(period)
    rows = list(
        Transaction.objects.filter(portfolio__client__advisor_id=broker.pk, trade_date__gte=start, trade_date__lte=end)
        .exclude(type=TransactionType.REVERSAL)
        .exclude(referenced_by__type=TransactionType.REVERSAL)
        .order_by("trade_date", "id")
        .values_list(
            "id",
            "portfolio_id",
            "portfolio__client_id",
            "type",
            "trade_date",
            "instrument_id",
            "instrument__asset_class",
            "amount",
            "currency",
        )
    )
    fx = fx_series({r[8] for r in rows}, end, start)
    entries = []
    for txn_id, portfolio_id, client_id, kind, day, instrument_id, asset_class, amount, currency in rows:
        asset_class = asset_class or ""
        try:
            basis = performance.convert(amount, currency, "EUR", day, fx)
        except performance.PerformanceInputError:
            logger.warning("no FX rate for %s on %s: transaction %s accrues on a later run", currency, day, txn_id)
            continue
        common = {
            "source_key": f"txn:{txn_id}",
            "date": day,
            "client_id": client_id,
            "portfolio_id": portfolio_id,
            "instrument_id": instrument_id,
            "asset_class": asset_class,
            "source_transaction_id": txn_id,
            "basis": _eight(basis),
        }
        if kind == TransactionType.BUY:
            rule = book.find(Kind.UPFRONT, day, instrument_id=instrument_id, asset_class=asset_class)
            if rule is not None and rule.rate:
                entries.append(
                    Entry(
                        kind=Kind.UPFRONT, rule_id=rule.pk, rate=rule.rate, amount=_eight(basis * rule.rate), **common
                    )
                )
        rule = book.find(Kind.FIXED, day, instrument_id=instrument_id, asset_class=asset_class, event=kind)
        if rule is not None and rule.amount:
            entries.append(Entry(kind=Kind.FIXED, rule_id=rule.pk, amount=_eight(rule.amount), **common))
    return entries


def _clawback_entries(broker, period: date) -> list[Entry]:
    """Negated entries for what a booking reversed in this month earned in a month no longer computed.

    The beneficiary gives back what they earned, whoever advises the client today. A month still
    computed needs none: its next run leaves the reversed booking out.
    """
    start, end = period, month_end(period)
    frozen = (
        Accrual.objects.filter(
            beneficiary=broker, kind__in=[Kind.UPFRONT, Kind.FIXED], source_transaction__isnull=False
        )
        .exclude(statement__status=Statement.Status.ACCRUED)
        .exclude(source_key__startswith=CLAWBACK)
    )
    reversals = {
        reference_id: (reversal_id, day)
        for reversal_id, reference_id, day in Transaction.objects.filter(
            type=TransactionType.REVERSAL,
            trade_date__gte=start,
            trade_date__lte=end,
            reference_id__in=frozen.values("source_transaction_id"),
        ).values_list("id", "reference_id", "trade_date")
    }
    entries = []
    for earned in frozen.filter(source_transaction_id__in=list(reversals)).order_by("date", "pk"):
        reversal_id, day = reversals[earned.source_transaction_id]
        entries.append(
            Entry(
                kind=earned.kind,
                source_key=f"{CLAWBACK}{earned.pk}",
                date=day,
                client_id=earned.client_id,
                portfolio_id=earned.portfolio_id,
                instrument_id=earned.instrument_id,
                asset_class=earned.asset_class,
                basis=-earned.basis,
                rate=earned.rate,
                amount=-earned.amount,
                rule_id=earned.rule_id,
                source_transaction_id=reversal_id,
                source_accrual_id=earned.pk,
            )
        )
    return entries


def _trailing_entries(broker, period: date, book: RuleBook) -> list[Entry]:
    start, end = period, month_end(period)
    rows = (
        Valuation.objects.filter(
            portfolio__client__advisor_id=broker.pk, date__gte=start - VALUATION_REACH, date__lte=end + VALUATION_REACH
        )
        .order_by("portfolio_id", "date")
        .values_list("portfolio_id", "portfolio__client_id", "date", "market_value_eur")
    )
    by_portfolio: dict[int, list] = defaultdict(list)
    for portfolio_id, client_id, day, value in rows:
        by_portfolio[portfolio_id].append((day, value, client_id))
    changes = sorted(book.change_days(Kind.TRAILING))
    entries = []
    one = timedelta(days=1)
    for portfolio_id, days in by_portfolio.items():
        for i, (day, value, client_id) in enumerate(days):
            if day > end:
                break
            following = days[i + 1][0] if i + 1 < len(days) else None
            first = max(day, start)
            # The last known day covers only itself until the next valuation arrives.
            last = min(end, following - one) if following else day
            if first > last or value <= 0:
                continue
            for a, b in _split(first, last, changes):
                rule = book.find(Kind.TRAILING, a)
                if rule is None or not rule.rate:
                    continue
                count = (b - a).days + 1
                entries.append(
                    Entry(
                        kind=Kind.TRAILING,
                        source_key=f"val:{portfolio_id}:{a.isoformat()}",
                        date=a,
                        days=count,
                        client_id=client_id,
                        portfolio_id=portfolio_id,
                        basis=_eight(value),
                        rate=rule.rate,
                        amount=_eight(value * rule.rate * count / DAYS_PER_YEAR),
                        rule_id=rule.pk,
                        source_date=day,
                    )
                )
    return entries


def _split(first: date, last: date, changes: list[date]):
    """[first, last] cut before each day a rule changes."""
    cuts = [d for d in changes if first < d <= last]
    a = first
    for cut in cuts:
        yield a, cut - timedelta(days=1)
        a = cut
    yield a, last


# --- storing -------------------------------------------------------------------------------


def _store(*, beneficiary, statement: Statement, entries: list[Entry], existing) -> dict[tuple, Accrual]:
    """Make the stored rows equal `entries` (matched by kind and source); returns them by that key."""
    current = {(a.kind, a.source_key): a for a in existing}
    firm_id = beneficiary.organisation_id
    result, new, changed = {}, [], []
    for entry in entries:
        key = (entry.kind, entry.source_key)
        values = {**entry.__dict__, "firm_id": firm_id, "period": statement.period}
        values.pop("kind"), values.pop("source_key")
        row = current.pop(key, None)
        if row is None:
            row = Accrual(
                beneficiary=beneficiary, statement=statement, kind=entry.kind, source_key=entry.source_key, **values
            )
            new.append(row)
        elif any(getattr(row, name) != values[name] for name in COMPARED):
            for name in COMPARED:
                setattr(row, name, values[name])
            changed.append(row)
        result[key] = row
    if current:
        Accrual.objects.filter(pk__in=[a.pk for a in current.values()]).delete()
    Accrual.objects.bulk_create(new, batch_size=1000)
    Accrual.objects.bulk_update(changed, [*COMPARED], batch_size=1000)
    return result


def _overrides_store(*, broker, period: date, book: RuleBook, stored: dict) -> list[Statement]:
    """The managers' overrides on this broker's entries; returns the managers' (locked) statements."""
    wanted: dict[int, list[Entry]] = defaultdict(list)
    for accrual in sorted(stored.values(), key=lambda a: (a.date, a.pk)):
        rule, manager_id = book.override(accrual.date)
        if rule is None or not rule.rate or manager_id == broker.pk:
            continue
        wanted[manager_id].append(
            Entry(
                kind=Kind.OVERRIDE,
                source_key=f"acc:{accrual.pk}",
                date=accrual.date,
                days=accrual.days,
                client_id=accrual.client_id,
                portfolio_id=accrual.portfolio_id,
                instrument_id=accrual.instrument_id,
                asset_class=accrual.asset_class,
                basis=accrual.amount,
                rate=rule.rate,
                amount=_eight(accrual.amount * rule.rate),
                rule_id=rule.pk,
                source_accrual_id=accrual.pk,
            )
        )
    existing = Accrual.objects.filter(kind=Kind.OVERRIDE, period=period, source_accrual__beneficiary=broker)
    involved = set(wanted) | set(existing.values_list("beneficiary_id", flat=True))
    statements = []
    users = get_user_model().objects.in_bulk(sorted(involved))
    for manager_id in sorted(involved):
        manager = users[manager_id]
        statement = statement_locked(beneficiary=manager, period=period)
        if statement.status != Statement.Status.ACCRUED:
            continue
        _store(
            beneficiary=manager,
            statement=statement,
            entries=wanted.get(manager_id, []),
            existing=existing.filter(beneficiary_id=manager_id),
        )
        statements.append(statement)
    return statements


def _eight(value: Decimal) -> Decimal:
    return Decimal(value).quantize(EIGHT, ROUND_HALF_UP)
