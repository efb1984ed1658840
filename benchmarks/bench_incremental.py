#!/usr/bin/env python
"""How fast a day's import is valued: incremental revaluation of every portfolio it touches.

Needs a database that already holds valued demo data (built for the large demo with
`manage.py demo --scale large`; the small demo works too), named by DATABASE_URL:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/partnerzone_bench \\
        .venv/bin/python benchmarks/bench_incremental.py [--processes 2] [--limit N] [--commit] [--compare-full]

1. Adds "a day's import": one new business day after the last close, rate and valuation, with a
   close for every instrument and a rate for every currency (the last one moved by a small,
   deterministic step).
2. Asks `services.valuations_affected` -- what an import hands to the Celery tasks -- which
   portfolios that day touches and from which day, then times `valuation.portfolio_revalue(
   since=…)` for every one of them, in this process or in a pool of `--processes` forked workers
   (connections are closed before forking; each worker opens its own), 200 portfolios a slice as
   in a task. Portfolios never valued yet would get a first, full valuation: not incremental, so
   they are left out. The roll-up (client totals, books) is not part of the timing.
3. Prints portfolios per second, days written and the total time; with --compare-full also the
   same for replays of the same portfolios from their first booking (what was done before).

It leaves the database as it found it, and writes or deletes nothing but what it adds:

* by default each portfolio's revaluation runs inside a transaction that is rolled back, so
  nothing it writes is kept -- the timing covers every query and write but not the COMMIT;
* with --commit each portfolio commits as in production; afterwards the portfolios are valued
  back to the day they were valued on before (`portfolio_revalue(since=new day, until=that
  day)`: it deletes the rows the run added and recomputes the latest value and allocation from
  the stored rows, timed and printed too).

In both modes the new day's closes and rates are deleted at the end (also after an error or
Ctrl-C).
"""

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("PORTAL_ALLOW_DEV_SECRET", "true")  # a script, never serving requests

import django  # noqa: E402

SLICE = 200  # portfolios per slice, as intermediaries.services.REVALUE_CHUNK
SIX = Decimal("0.000001")
TEN = Decimal("0.0000000001")


def next_business_day(day: date) -> date:
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def step(key: str, seed: int) -> Decimal:
    """A deterministic move between -1 % and +1 %, the same for a key on every run."""
    h = sum((i + 1) * ord(c) for i, c in enumerate(key)) * 2654435761 + seed
    return Decimal(h % 2001 - 1000) / Decimal(100_000)


def add_day(new_day: date) -> tuple[list[int], list[int]]:
    """A close per instrument and a rate per currency on `new_day`; returns the new rows' ids."""
    from django.db.models import OuterRef, Subquery

    from intermediaries.models import FxRate, Instrument, Price

    last_close = Price.objects.filter(instrument=OuterRef("pk")).order_by("-date").values("close")[:1]
    closes = [
        Price(instrument_id=pk, date=new_day, close=(close * (1 + step(str(pk), 1))).quantize(SIX))
        for pk, close in Instrument.objects.annotate(close=Subquery(last_close)).values_list("pk", "close")
        if close
    ]
    currencies = FxRate.objects.values_list("currency", flat=True).distinct()
    rates = []
    for currency in currencies:
        last = FxRate.objects.filter(currency=currency).order_by("-date").values_list("rate", flat=True).first()
        rates.append(FxRate(currency=currency, date=new_day, rate=(last * (1 + step(currency, 2))).quantize(TEN)))
    return (
        [p.pk for p in Price.objects.bulk_create(closes, batch_size=2000)],
        [r.pk for r in FxRate.objects.bulk_create(rates)],
    )


def remove_day(price_ids: list[int], rate_ids: list[int]) -> None:
    from intermediaries.models import FxRate, Price

    for i in range(0, len(price_ids), 5000):
        Price.objects.filter(pk__in=price_ids[i : i + 5000]).delete()
    FxRate.objects.filter(pk__in=rate_ids).delete()


def revalue_slice(args) -> tuple[int, int, list[str]]:
    """Revalue (portfolio id, since, until) triples; with `keep` False inside rolled-back transactions."""
    work, keep = args
    from django.db import connections, transaction

    from intermediaries.market_data import MarketData
    from intermediaries.valuation import portfolio_revalue

    market = MarketData()  # closes and rates shared by the slice, as in a task
    days, failures = 0, []
    try:
        for portfolio_id, since, until in work:
            try:
                if keep:  # commits on its own, as in a task
                    days += portfolio_revalue(portfolio_id=portfolio_id, since=since, until=until, market=market)
                else:
                    with transaction.atomic():
                        days += portfolio_revalue(portfolio_id=portfolio_id, since=since, until=until, market=market)
                        transaction.set_rollback(True)
            except Exception as exc:
                failures.append(f"portfolio {portfolio_id}: {type(exc).__name__}: {exc}")
        return len(work), days, failures
    finally:
        connections.close_all()  # a worker must not leave its connection to the next fork


def run(work: list[tuple[int, date, date]], *, keep: bool, processes: int, label: str) -> None:
    from django.db import connections

    size = max(1, min(SLICE, -(-len(work) // processes)))  # every process gets work on a small database
    slices = [(work[i : i + size], keep) for i in range(0, len(work), size)]
    started = time.perf_counter()
    done = days = 0
    failures: list[str] = []
    last_report = started
    if processes > 1:
        connections.close_all()  # children must not share the parent's connection
        with ProcessPoolExecutor(max_workers=processes) as pool:
            results = pool.map(revalue_slice, slices)
            for count, written, failed in results:
                done, days, failures = done + count, days + written, failures + failed
                if time.perf_counter() - last_report > 30:
                    last_report = time.perf_counter()
                    print(f"  {label}: {done}/{len(work)} portfolios ({last_report - started:.0f} s)", flush=True)
    else:
        for part in slices:
            count, written, failed = revalue_slice(part)
            done, days, failures = done + count, days + written, failures + failed
            if time.perf_counter() - last_report > 30:
                last_report = time.perf_counter()
                print(f"  {label}: {done}/{len(work)} portfolios ({last_report - started:.0f} s)", flush=True)
    elapsed = time.perf_counter() - started
    rate = done / elapsed if elapsed else 0
    print(
        f"{label}: {done} portfolios in {elapsed:.2f} s with {processes} process(es): "
        f"{rate:.1f} portfolios/s ({1000 * elapsed / max(done, 1):.2f} ms wall time each), {days} days written"
    )
    if failures:
        print(f"  {len(failures)} failed, e.g. {failures[0]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=1, help="worker processes (default 1: in this process)")
    parser.add_argument("--limit", type=int, default=0, help="revalue only the first N affected portfolios")
    parser.add_argument("--commit", action="store_true", help="commit each portfolio, then value them back")
    parser.add_argument(
        "--compare-full", action="store_true", help="also time full replays of the same portfolios (rolled back)"
    )
    options = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        parser.error("set DATABASE_URL to the database that holds the demo")
    django.setup()

    from django.db import connection
    from django.db.models import Max

    from intermediaries.feed import FeedReport
    from intermediaries.models import FxRate, Instrument, Portfolio, Price
    from intermediaries.services import valuations_affected

    valued_on = dict(Portfolio.objects.filter(valued_on__isnull=False).values_list("pk", "valued_on"))
    if not valued_on:
        sys.exit("No valued portfolio in this database: build the demo first (manage.py demo --scale large).")
    last = max(
        d
        for d in (
            max(valued_on.values()),
            Price.objects.aggregate(d=Max("date"))["d"],
            FxRate.objects.aggregate(d=Max("date"))["d"],
        )
        if d
    )
    new_day = next_business_day(last)
    if options.processes > 1 and connection.vendor != "postgresql":
        print("one writer at a time on this database: running in this process")
        options.processes = 1
    settings = connection.settings_dict
    print(
        f"database {settings['NAME']} on {settings.get('HOST') or 'localhost'} ({connection.vendor}): "
        f"{Portfolio.objects.count()} portfolios, {len(valued_on)} valued, {Instrument.objects.count()} instruments; "
        f"last stored day {last}, new day {new_day}"
    )

    started = time.perf_counter()
    price_ids, rate_ids = add_day(new_day)
    print(
        f"a day's import: {len(price_ids)} closes and {len(rate_ids)} FX rates on {new_day} ({time.perf_counter() - started:.2f} s)"
    )
    try:
        started = time.perf_counter()
        report = FeedReport(
            directory=ROOT,
            price_changes=dict.fromkeys(
                Price.objects.filter(pk__in=price_ids).values_list("instrument_id", flat=True), new_day
            ),
            fx_changes=dict.fromkeys(
                FxRate.objects.filter(pk__in=rate_ids).values_list("currency", flat=True), new_day
            ),
        )
        affected = valuations_affected(report)
        never_valued = sorted(pk for pk, since in affected.items() if since is None)
        work = sorted((pk, since, new_day) for pk, since in affected.items() if since is not None)
        print(
            f"affected: {len(work)} portfolios to revalue from {new_day} (found in {time.perf_counter() - started:.2f} s); "
            f"{len(never_valued)} never valued left out; {len(valued_on) - len(work)} valued portfolios untouched"
        )
        if options.limit:
            work = work[: options.limit]
        run(
            work,
            keep=options.commit,
            processes=options.processes,
            label="incremental revaluation" + (" (committed)" if options.commit else " (rolled back)"),
        )
        if options.compare_full:
            run(
                [(pk, None, new_day) for pk, _, _ in work],
                keep=False,
                processes=options.processes,
                label="full replay, for comparison (rolled back)",
            )
        if options.commit:
            # Value each portfolio back to its former last day: the new day's rows go, latest value and allocation return.
            run(
                [(pk, new_day, valued_on[pk]) for pk, _, _ in work if pk in valued_on],
                keep=True,
                processes=options.processes,
                label="back to the former day",
            )
    finally:
        from django.db import connections

        connections.close_all()
        remove_day(price_ids, rate_ids)
        print(f"removed the {len(price_ids)} closes and {len(rate_ids)} FX rates of {new_day}")


if __name__ == "__main__":
    main()
