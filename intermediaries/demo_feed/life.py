"""A portfolio's life from its opening day: savings plans, trades, income, deposits and withdrawals.

Within a month the events happen in date order (savings on the first business day, income on
the 6th and 9th, a trade after that, top-ups and withdrawals on the last), so cash and positions
are always those of the day. The random draws happen in a fixed order, so a portfolio's history
depends only on its seed.
"""

import math
import random
from dataclasses import dataclass, replace

from .book import Book
from .market import Market
from .scales import Profile


@dataclass(frozen=True)
class Plan:
    """Scripted moments for a named demo portfolio, so the demo shows every case the valuation handles."""

    initial: tuple[str, ...] = ()  # instruments bought (or transferred in) on opening
    transfer_in: bool = False
    day_trade_month: int | None = None  # buy and sell the same instrument on one day
    sell_after_ex_from: int | None = None  # from this month, sell a dividend payer between ex-day and pay day
    empty_month: int | None = None  # sell everything and withdraw all cash ...
    refill_month: int | None = None  # ... and start again
    transfer_out_month: int | None = None
    close_month: int | None = None  # sell everything, withdraw, never come back
    fee_reversal_month: int | None = None  # a fee booked in error, reversed two days later
    fee_refund_month: int | None = None  # part of the trading fees refunded
    # A transfer to (or from) another portfolio of the same client, at the end of the month.
    transfer_to: tuple[str, int] | None = None  # (receiving portfolio, month)
    receive_from: tuple[str, int] | None = None  # (sending portfolio, month)


# Named portfolios with scripted moments (month numbers count from the feed's first month). Every
# holder of a split share books the split (market.SPLITS; P0001-01 holds Nordwerk), and every
# holder of a delisted share writes it off (market.DELISTED; P0003-02 holds it from the start).
PLANS = {
    "P0001-01": Plan(
        initial=("Nordwerk", "Hanse Logistik AG", "World Equity"),
        day_trade_month=10,
        sell_after_ex_from=12,
        fee_reversal_month=8,
        fee_refund_month=11,
    ),
    "P0002-01": Plan(empty_month=14, refill_month=17),
    "P0002-02": Plan(transfer_to=("P0002-03", 13)),
    "P0002-03": Plan(receive_from=("P0002-02", 13)),
    "P0003-01": Plan(transfer_in=True, transfer_out_month=20),
    "P0003-02": Plan(initial=("Kranich Solar", "Euro Stoxx 50", "Global Balanced")),
    "P0004-02": Plan(close_month=24),
}
REVERSED_FEE = 29_75  # a custody fee charged in error, in cents
REFUNDED_FEE = 12_50


def plan_for(portfolio_number: str, market: Market) -> Plan | None:
    """The portfolio's scripted plan, if it has one, with its instruments named by ISIN.

    Plans name instruments by a word of their name; the feed needs ISINs.
    """
    plan = PLANS.get(portfolio_number)
    if plan is None or not plan.initial:
        return plan
    by_name = [next(i.isin for i in market.instruments.values() if word in i.name) for word in plan.initial]
    return replace(plan, initial=tuple(by_name))


def simulate(
    book: Book,
    *,
    rng: random.Random,
    profile: Profile,
    opening: int,
    plan: Plan | None = None,
    handover: dict | None = None,
) -> None:
    """Book the portfolio's whole life, from its opening day to the end of the market's days.

    `handover` carries transfers between portfolios of one client: the sending portfolio (simulated
    first) leaves there what the receiving one books.
    """
    life = _Life(book, rng=rng, profile=profile, opening=opening, plan=plan, handover=handover)
    life.open()
    for month in range(life.start_month, len(book.market.months)):
        life.month(month)


class _Life:
    """The simulation's state between months: what the portfolio trades, saves and is scripted to do."""

    def __init__(
        self,
        book: Book,
        *,
        rng: random.Random,
        profile: Profile,
        opening: int,
        plan: Plan | None,
        handover: dict | None,
    ):
        market = book.market
        self.book, self.market, self.rng, self.profile, self.opening = book, market, rng, profile, opening
        self.scripted = plan is not None
        self.plan = plan or Plan()
        self.handover = handover if handover is not None else {}
        # Mostly instruments in the portfolio's currency, and a fifth of the others.
        others = [i for i in market.listed if i.currency != book.currency]
        self.universe = market.by_currency.get(book.currency, []) + rng.sample(others, len(others) // 5)
        plans = [i.isin for i in self.universe if i.asset_class in ("etf", "fund")] or [self.universe[0].isin]
        self.saver = rng.random() < profile.saver_share
        self.savings = rng.choice((50, 100, 150, 200, 250, 300, 500, 750, 1000)) * 100
        self.savings_isin = rng.choice(plans)
        self.start_month = next(m for m, (first, last) in enumerate(market.months) if first <= opening <= last)
        self.paused = False
        self.sell_after_ex = self.plan.sell_after_ex_from
        self.initial: list[str] = []

    def open(self) -> None:
        """A deposit and a handful of buys, or securities transferred in from another bank."""
        book, rng, opening = self.book, self.rng, self.opening
        book.deposit(opening, int(rng.lognormvariate(math.log(25_000), 0.9)) * 100)
        initial = list(self.plan.initial) or [
            i.isin for i in rng.sample(self.universe, min(len(self.universe), rng.randint(2, 5)))
        ]
        if self.plan.transfer_in or rng.random() < self.profile.transfer_chance:
            for isin in initial[:2]:
                book.transfer_in(opening, isin, rng.randint(20, 200) * 1000)
            initial = initial[2:]
        for isin in initial:
            book.buy(opening, isin, int(book.cash * 0.8 / max(len(initial), 1)))
        self.initial = initial

    def month(self, month: int) -> None:
        first, last = self.market.months[month]
        self.corporate_actions(month, first)
        if month == self.plan.refill_month:
            self.refill(first)
        if self.paused:
            return
        if self.saver and month > self.start_month:
            self.book.deposit(first, self.savings)
            self.book.buy(first, self.savings_isin, self.savings, fee=False)
        self.fee_corrections(month, first)
        pay_day = self.income(month, first)
        if month in (self.plan.empty_month, self.plan.close_month):
            self.empty(first, last)
            return
        self.trade(month, self.rng.randint(max(pay_day + 1, self.opening), last))
        self.top_up_and_withdraw(last)
        if month == self.plan.transfer_out_month and self.book.positions:
            self.book.transfer_out(last, sorted(self.book.positions)[0])
        self.transfers_between_portfolios(month, last)

    def corporate_actions(self, month: int, first: int) -> None:
        """On the month's first business day: the splits of shares held, and write-offs of delisted ones."""
        if first <= self.opening:
            return  # bought on or after that day, at the prices after it
        for isin, ratio in self.market.splits.get(month, ()):
            if isin in self.book.positions:
                self.book.split(first, isin, ratio)
        for isin in sorted(self.book.positions):
            if self.market.instruments[isin].delisted_month == month:
                self.book.write_off(first, isin)

    def fee_corrections(self, month: int, first: int) -> None:
        if month == self.plan.fee_reversal_month:
            fee = self.book.charge(first + 1, REVERSED_FEE)
            self.book.reverse_fee(first + 3, fee, REVERSED_FEE)
        if month == self.plan.fee_refund_month:
            self.book.refund_fee(first + 2, REFUNDED_FEE)

    def transfers_between_portfolios(self, month: int, last: int) -> None:
        """The scripted transfer of a position to another portfolio of the client, or its receipt."""
        book = self.book
        if self.plan.transfer_to and self.plan.transfer_to[1] == month and book.positions:
            receiver = self.plan.transfer_to[0]
            isin = sorted(book.positions)[0]
            txn_id, milli, cost = book.transfer_out(last, isin, to=receiver)
            if txn_id is not None:
                self.handover[receiver] = (book.number, month, isin, milli, cost, txn_id)
        sent = self.handover.get(book.number)
        if sent is not None and sent[:2] == self.plan.receive_from == (sent[0], month):
            _, _, isin, milli, cost, txn_id = sent
            book.transfer_in_from(last, isin, milli, cost, sender=sent[0], reference=txn_id)

    def refill(self, first: int) -> None:
        """After an emptied portfolio's pause: money in again, and the first instruments bought back."""
        self.paused = False
        self.book.deposit(first, 15_000_00)
        for isin in self.initial[:3] or [self.savings_isin]:
            self.book.buy(first + 1, isin, 4_000_00)

    def income(self, month: int, first: int) -> int:
        """Dividends and coupons: ex-day on the 6th business day, paid three business days later. Returns the pay day.

        A scripted portfolio may sell a payer between ex-day and pay day: it is still paid.
        """
        book, market = self.book, self.market
        calendar_month = market.days[first].month
        ex_day, pay_day = first + 5, first + 8
        entitlements = [
            (isin, position.milli)
            for isin, position in book.positions.items()
            if calendar_month in market.instruments[isin].months and ex_day > self.opening
        ]
        sold_after_ex = False
        payers = [isin for isin, _ in entitlements if market.instruments[isin].asset_class != "bond"]
        if self.sell_after_ex is not None and month >= self.sell_after_ex and payers:
            book.sell(ex_day + 1, payers[0])
            sold_after_ex, self.sell_after_ex = True, None
        for isin, milli in entitlements:
            instrument = market.instruments[isin]
            if instrument.asset_class == "bond":
                per_unit = round(100 * instrument.yield_, 4)
            else:
                per_unit = round(market.closes[isin][ex_day] * instrument.yield_ / len(instrument.months), 4)
            book.pay_income(pay_day, isin, milli, per_unit)
        if sold_after_ex:
            book.buy(pay_day + 1, self.savings_isin, book.cash // 2)
        return pay_day

    def empty(self, first: int, last: int) -> None:
        """Sell everything and withdraw all cash; the portfolio rests until a refill, if any."""
        for isin in sorted(self.book.positions):
            self.book.sell(first + 12, isin)
        self.book.withdraw(last, self.book.cash)
        self.paused = True

    def trade(self, month: int, day: int) -> None:
        """The scripted same-day buy and sell, or by chance one sale or one buy."""
        book, rng = self.book, self.rng
        if month == self.plan.day_trade_month:
            isin = next(i.isin for i in self.universe if i.asset_class == "equity")
            milli = book.buy(day, isin, min(book.cash // 3, 5_000_00))
            book.sell(day, isin, milli)
        elif rng.random() < self.profile.trade_chance:
            # Scripted portfolios keep their positions for their scripted moments.
            if book.positions and rng.random() < 0.4 and not self.scripted:
                isin = rng.choice(sorted(book.positions))
                held = book.positions[isin].milli
                book.sell(day, isin, held if rng.random() < 0.3 else max(held // 2000 * 1000, 1000))
            elif book.cash > 1_000_00:
                book.buy(day, rng.choice(self.universe).isin, int(book.cash * rng.uniform(0.3, 0.9)))

    def top_up_and_withdraw(self, last: int) -> None:
        book, rng = self.book, self.rng
        if rng.random() < self.profile.top_up_chance:
            book.deposit(last, rng.choice((1_000, 2_500, 5_000, 10_000)) * 100)
        if rng.random() < self.profile.withdrawal_chance and book.cash > 0:
            book.withdraw(last, int(book.cash * rng.uniform(0.2, 0.6)))
