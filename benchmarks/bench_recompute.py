"""How long a full replay of one busy portfolio takes.

Generates a synthetic EUR portfolio over three years: 50 instruments (half in EUR, half in USD)
with a close on every weekday, a daily EUR/USD rate, and 20,000 bookings of every type. Then runs
`value_portfolio` five times and prints the minimum and median wall time. Target: under 1 second.

    .venv/bin/python benchmarks/bench_recompute.py
"""

import random
import statistics
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from intermediaries.performance import Txn, value_portfolio

START = date(2021, 1, 4)
END = date(2023, 12, 29)
INSTRUMENTS = 50
TRANSACTIONS = 20_000
RUNS = 5
CENT = Decimal("0.01")
SIX = Decimal("0.000001")


def weekdays(start: date, end: date) -> list[date]:
    days, d = [], start
    while d <= end:
        if d.weekday() < 5:
            days.append(d)
        d += timedelta(days=1)
    return days


def synthetic(seed: int = 42):
    rng = random.Random(seed)
    days = weekdays(START, END)
    currency = {i: ("EUR" if i % 2 else "USD") for i in range(1, INSTRUMENTS + 1)}

    prices: dict[int, list[tuple[date, Decimal]]] = {}
    for i in currency:
        level = rng.uniform(20, 200)
        series = []
        for d in days:
            level *= 1 + rng.gauss(0.0002, 0.015)
            if rng.random() > 0.01:  # about 1 % of closes are missing: the stale path gets exercised
                series.append((d, Decimal(str(level)).quantize(SIX)))
        prices[i] = series
    price_on = {i: dict(series) for i, series in prices.items()}

    rate, usd = 1.10, []
    for d in days:
        rate *= 1 + rng.gauss(0, 0.004)
        if rng.random() > 0.01:
            usd.append((d, Decimal(str(rate)).quantize(Decimal("0.0000000001"))))
    fx = {"USD": usd}

    held = dict.fromkeys(currency, Decimal(0))
    txns: list[Txn] = []
    next_id = 1

    def book(kind, d, amount, *, instrument=None, quantity=Decimal(0), price=Decimal(0), ccy="EUR"):
        nonlocal next_id
        txns.append(Txn(next_id, kind, d, instrument, quantity, price, amount, ccy))
        next_id += 1

    book("deposit", days[0], Decimal(5_000_000))
    trade_days = sorted(rng.choice(days) for _ in range(TRANSACTIONS - 1))
    for d in trade_days:
        i = rng.randint(1, INSTRUMENTS)
        close = price_on[i].get(d) or Decimal(100)
        kind = rng.choices(
            [
                "buy",
                "sell",
                "dividend",
                "deposit",
                "withdrawal",
                "fee",
                "tax",
                "interest",
                "transfer_in",
                "transfer_out",
            ],
            weights=[40, 25, 8, 5, 4, 6, 3, 3, 3, 3],
        )[0]
        if kind in ("sell", "transfer_out") and held[i] <= 0:
            kind = "buy"
        if kind in ("buy", "transfer_in"):
            quantity = Decimal(rng.randint(1, 100))
            amount = (quantity * close).quantize(CENT) if kind == "buy" else Decimal(0)
            held[i] += quantity
            book(kind, d, amount, instrument=i, quantity=quantity, price=close, ccy=currency[i])
        elif kind in ("sell", "transfer_out"):
            quantity = min(held[i], Decimal(rng.randint(1, 100)))
            held[i] -= quantity
            amount = (quantity * close).quantize(CENT) if kind == "sell" else Decimal(0)
            book(kind, d, amount, instrument=i, quantity=quantity, price=close, ccy=currency[i])
        elif kind == "dividend":
            book(kind, d, Decimal(rng.randint(1, 5000)) / 10, instrument=i, ccy=currency[i])
        else:
            book(kind, d, Decimal(rng.randint(1, 50_000)) / 10, ccy=rng.choice(["EUR", "USD"]))
    return txns, prices, currency, fx


def main() -> None:
    started = time.perf_counter()
    txns, prices, currency, fx = synthetic()
    generated = time.perf_counter() - started
    closes = sum(len(s) for s in prices.values())
    print(
        f"synthetic portfolio: {len(txns):,} transactions, {len(prices)} instruments, "
        f"{closes:,} closes, {len(fx['USD']):,} USD rates, {START} .. {END} (generated in {generated:.2f} s)"
    )

    timings = []
    history = None
    for _ in range(RUNS):
        started = time.perf_counter()
        history = value_portfolio(
            currency="EUR", transactions=txns, prices=prices, instrument_currency=currency, fx=fx, until=END
        )
        timings.append(time.perf_counter() - started)

    last = history.days[-1]
    print(
        f"{len(history.days)} valuation days, {len(history.holdings):,} holding spans; "
        f"last day {last.date}: value {last.market_value:,.2f} EUR, index {last.twr_index:.6f}, flags {last.flags}"
    )
    print(f"value_portfolio x {RUNS}: min {min(timings):.3f} s, median {statistics.median(timings):.3f} s")
    print("target < 1 s:", "OK" if statistics.median(timings) < 1 else "TOO SLOW")


if __name__ == "__main__":
    main()
