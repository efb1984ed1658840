"""One portfolio simulated forward: cash in cents, positions in thousandths of a unit.

Every event the simulation books is written as a row of transactions.csv, so a sale never
exceeds the position and a buy never exceeds the cash.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from .market import Market

DIVIDEND_TAX = 0.26375  # German flat tax with solidarity surcharge


def _quantity(milli: int) -> str:
    if milli % 1000 == 0:
        return str(milli // 1000)
    return f"{milli // 1000}.{milli % 1000:03d}".rstrip("0")


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _fee(cents: int) -> int:
    """0.25 % of the trade, at least 4.90 and at most 49.90."""
    return max(490, min(4990, round(cents * 0.0025)))


@dataclass(slots=True)
class Position:
    milli: int = 0  # thousandths of a unit
    cost: int = 0  # in cents of the portfolio currency


@dataclass
class Book:
    """One portfolio simulated forward: cash in cents, a position per ISIN."""

    market: Market
    write: Callable
    number: str
    currency: str
    last: int  # index of the last day to write; later events are simulated but not written
    cash: int = 0
    positions: dict[str, Position] = field(default_factory=dict)
    sequence: int = 0
    written: int = 0

    def emit(
        self,
        index: int,
        kind: str,
        isin: str = "",
        milli: int = 0,
        price: float | None = None,
        cents: int | None = 0,
        *,
        reference: str = "",
        ratio: str = "",
        counterpart: str = "",
    ) -> str | None:
        """Write one row; returns its transaction id, or None when its day is after the last one written."""
        # The number counts every event, written or not, so a row keeps its id when later days are added.
        self.sequence += 1
        if index > self.last:
            return None
        self.written += 1
        txn_id = f"{self.number}-{self.sequence:04d}"
        self.write(
            (
                txn_id,
                self.number,
                kind,
                self.market.iso[index],
                isin,
                _quantity(milli) if milli else "",
                "" if price is None else f"{price:.4f}",
                "" if cents is None else _money(cents),
                self.currency,
                reference,
                ratio,
                counterpart,
            )
        )
        return txn_id

    def deposit(self, index: int, cents: int) -> None:
        self.cash += cents
        self.emit(index, "deposit", cents=cents)

    def withdraw(self, index: int, cents: int) -> None:
        cents = min(cents, self.cash)
        if cents > 0:
            self.cash -= cents
            self.emit(index, "withdrawal", cents=cents)

    def buy(self, index: int, isin: str, budget: int, *, fee: bool = True) -> int:
        charge = _fee(budget) if fee else 0
        budget = min(budget, self.cash - charge)
        unit = self.market.unit_value(isin, self.currency, index)
        exact = budget / 100 / unit
        milli = int(exact) * 1000 if self.market.instruments[isin].whole_units else int(exact * 1000)
        if milli <= 0:
            return 0
        cents = round(milli * unit / 10)
        charge = _fee(cents) if fee else 0
        self.cash -= cents + charge
        position = self.positions.setdefault(isin, Position())
        position.milli += milli
        position.cost += cents
        self.emit(index, "buy", isin, milli, self.market.closes[isin][index], cents)
        if charge:
            self.emit(index, "fee", cents=charge)
        return milli

    def sell(self, index: int, isin: str, milli: int | None = None) -> None:
        position = self.positions[isin]
        held = position.milli
        milli = held if milli is None else min(milli, held)
        if milli <= 0:
            return
        cents = round(milli * self.market.unit_value(isin, self.currency, index) / 10)
        sold_cost = round(position.cost * milli / held)
        self._reduce(isin, milli, sold_cost)
        charge = _fee(cents)
        self.cash += cents - charge
        self.emit(index, "sell", isin, milli, self.market.closes[isin][index], cents)
        self.emit(index, "fee", cents=charge)
        gain = cents - charge - sold_cost
        if gain > 0:
            self.cash -= round(gain * DIVIDEND_TAX)
            self.emit(index, "tax", cents=round(gain * DIVIDEND_TAX))

    def _reduce(self, isin: str, milli: int, cost: int) -> None:
        position = self.positions[isin]
        position.milli -= milli
        position.cost -= cost
        if position.milli <= 0:
            del self.positions[isin]

    def pay_income(self, index: int, isin: str, milli: int, per_unit: float) -> None:
        """A dividend or coupon for the units held on the ex-day, which may since have been sold."""
        instrument = self.market.instruments[isin]
        amount = milli / 1000 * per_unit
        cents = round(
            amount / self.market.rate(instrument.currency, index) * self.market.rate(self.currency, index) * 100
        )
        if cents <= 0:
            return
        self.cash += cents
        kind = "interest" if instrument.asset_class == "bond" else "dividend"
        self.emit(index, kind, isin, milli, per_unit, cents)
        tax = round(cents * DIVIDEND_TAX)
        if tax:
            self.cash -= tax
            self.emit(index, "tax", cents=tax)

    def transfer_in(self, index: int, isin: str, milli: int) -> None:
        cents = round(milli * self.market.unit_value(isin, self.currency, index) / 10)
        position = self.positions.setdefault(isin, Position())
        position.milli += milli
        position.cost += cents
        self.emit(index, "transfer_in", isin, milli, self.market.closes[isin][index], cents)

    def transfer_out(self, index: int, isin: str, *, to: str = "") -> tuple[str | None, int, int]:
        """All of a position out, to another bank or (`to`) another portfolio of the client.

        Returns the row's transaction id, the units and the cost basis that left.
        """
        position = self.positions[isin]
        milli, cost = position.milli, position.cost
        cents = round(milli * self.market.unit_value(isin, self.currency, index) / 10)
        self._reduce(isin, milli, cost)
        txn_id = self.emit(index, "transfer_out", isin, milli, self.market.closes[isin][index], cents, counterpart=to)
        return txn_id, milli, cost

    def transfer_in_from(self, index: int, isin: str, milli: int, cost: int, *, sender: str, reference: str) -> None:
        """Units from another portfolio of the client: worth the day's value, at the cost basis they had there."""
        cents = round(milli * self.market.unit_value(isin, self.currency, index) / 10)
        position = self.positions.setdefault(isin, Position())
        position.milli += milli
        position.cost += cost
        self.emit(
            index,
            "transfer_in",
            isin,
            milli,
            self.market.closes[isin][index],
            cents,
            reference=reference,
            counterpart=sender,
        )

    def charge(self, index: int, cents: int) -> str | None:
        """A fee; returns its transaction id."""
        self.cash -= cents
        return self.emit(index, "fee", cents=cents)

    def reverse_fee(self, index: int, txn_id: str | None, cents: int) -> None:
        """The fee booked as `txn_id` is cancelled: the money is back as if it had never been charged."""
        self.cash += cents
        if txn_id is not None:
            self.emit(index, "reversal", cents=cents, reference=txn_id)

    def refund_fee(self, index: int, cents: int) -> None:
        self.cash += cents
        self.emit(index, "fee_refund", cents=cents)

    def split(self, index: int, isin: str, ratio: int) -> None:
        """`ratio` new units for each unit held; the cost stays."""
        self.positions[isin].milli *= ratio
        self.emit(index, "split", isin, cents=None, ratio=str(ratio))

    def write_off(self, index: int, isin: str) -> None:
        """A worthless position leaves the portfolio: no cash, its cost is lost."""
        position = self.positions[isin]
        milli = position.milli
        self._reduce(isin, milli, position.cost)
        self.emit(index, "write_off", isin, milli, cents=None)
