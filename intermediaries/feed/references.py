"""What a row of transactions.csv refers to, checked: reversals and transfers between portfolios.

A reversal cancels a booking of its own portfolio, once, never before it and for the same
amount. A transfer between two portfolios of one client is a pair: a `transfer_out` naming the
receiving portfolio and a `transfer_in` naming the sending one and referring to the
`transfer_out` -- same day, same ISIN, same quantity, one receiving leg per sending leg.
"""

from collections import defaultdict

from ..models import Transaction, TransactionType
from .values import RowError

T = TransactionType
ORIGINAL_FIELDS = (
    "id",
    "external_id",
    "portfolio_id",
    "portfolio__number",
    "type",
    "trade_date",
    "instrument_id",
    "instrument__isin",
    "quantity",
    "amount",
    "currency",
    "counterpart_portfolio_id",
    "reference__portfolio_id",
    "reference__trade_date",
)


def counterpart_error(number: str, found: tuple[int, int] | None, *, own: int, client_id: int) -> str | None:
    """Why `number` cannot be the other portfolio of a transfer from portfolio `own` of client `client_id`."""
    if found is None:
        return f"unknown counterpart_portfolio {number!r}"
    if found[0] == own:
        return "counterpart_portfolio is the booking's own portfolio"
    if found[1] != client_id:
        return (
            f"counterpart_portfolio {number} belongs to another client: a transfer between portfolios stays "
            "with one client (securities that go to someone else are a plain transfer_out)"
        )
    return None


class ReferenceChecks:
    """The bookings a batch refers to, loaded in three queries, and the check of each reference.

    `check(record)` raises RowError for a reference it cannot accept, and otherwise sets the
    record's `reference_id` and notes in `affects` the other (portfolio, day) pairs whose
    valuation the row changes. Two rows of one batch cannot claim the same booking.
    """

    def __init__(self, keys: set[str]):
        self.originals: dict[str, dict] = {}
        # Per booking id, the rows referring to it by type: (transaction id, pk, portfolio number).
        self.referrers: dict[int, dict[str, tuple]] = defaultdict(dict)
        self.reversed: set[int] = set()
        # Claimed by rows of this batch, not written yet: (booking id, type) -> (transaction id, portfolio number).
        self.claimed: dict[tuple[int, str], tuple[str, str]] = {}
        if not keys:
            return
        self.originals = {
            row["external_id"]: row for row in Transaction.objects.filter(external_id__in=keys).values(*ORIGINAL_FIELDS)
        }
        ids = [row["id"] for row in self.originals.values()]
        referring = Transaction.objects.filter(reference_id__in=ids).values_list(
            "reference_id", "type", "external_id", "id", "portfolio__number"
        )
        for reference_id, kind, external_id, pk, number in referring:
            self.referrers[reference_id][kind] = (external_id, pk, number)
        legs = [leg[1] for refs in self.referrers.values() for leg in refs.values()]
        self.reversed = set(
            Transaction.objects.filter(reference_id__in=[*ids, *legs], type=T.REVERSAL).values_list(
                "reference_id", flat=True
            )
        )

    def check(self, record: dict) -> None:
        key = record["reference_key"]
        original = self.originals.get(key)
        if original is None:
            raise RowError(
                f"reference {key!r} is no booking imported before: it must be in the database or on an "
                "earlier line of this file"
            )
        if record["type"] == T.REVERSAL:
            self.check_reversal(record, original)
        else:
            self.check_receipt(record, original)
        claim = (original["id"], record["type"])
        earlier = self.claimed.get(claim)
        if earlier is not None and earlier[0] != record["external_id"]:
            what = "reversed" if record["type"] == T.REVERSAL else "received"
            raise RowError(f"{key} is already {what} by {earlier[0]} on an earlier line")
        self.claimed[claim] = (record["external_id"], record["portfolio_number"])
        record["reference_id"] = original["id"]

    def _taken(self, original: dict, kind: str, record: dict) -> str | None:
        """The transaction id of another row of type `kind` that refers to `original`, if any."""
        found = self.referrers[original["id"]].get(kind)
        return found[0] if found is not None and found[0] != record["external_id"] else None

    def _is_reversed(self, pk: int) -> bool:
        return pk in self.reversed or (pk, T.REVERSAL) in self.claimed

    def check_reversal(self, record: dict, original: dict) -> None:
        key = original["external_id"]
        if original["portfolio_id"] != record["portfolio_id"]:
            raise RowError(
                f"reference {key} is a booking of portfolio {original['portfolio__number']}, not of "
                f"{record['portfolio_number']}: a reversal cancels a booking of its own portfolio"
            )
        if original["type"] == T.REVERSAL:
            raise RowError(
                f"reference {key} is itself a reversal: a reversal cannot be reversed (book the original "
                "again under a new transaction_id)"
            )
        if record["trade_date"] < original["trade_date"]:
            raise RowError(f"a reversal cannot be dated before the booking it cancels ({original['trade_date']})")
        if (record["amount"], record["currency"]) != (original["amount"], original["currency"]):
            raise RowError(
                f"amount {record['amount']} {record['currency']} differs from the reversed booking's "
                f"{original['amount']} {original['currency']}"
            )
        if record["isin"] and record["instrument_id"] != original["instrument_id"]:
            raise RowError(f"isin {record['isin']} differs from the reversed booking's {original['instrument__isin']}")
        if record["quantity"] and record["quantity"] != original["quantity"]:
            raise RowError(f"quantity {record['quantity']} differs from the reversed booking's {original['quantity']}")
        other = self._taken(original, T.REVERSAL, record)
        if other:
            raise RowError(f"{key} is already reversed by {other}")
        receipt = self.referrers[original["id"]].get(T.TRANSFER_IN)
        if receipt is not None and self._is_reversed(receipt[1]):
            receipt = None
        pending = self.claimed.get((original["id"], T.TRANSFER_IN))  # received on an earlier line of this batch
        if pending is not None:
            receipt = (pending[0], None, pending[1])
        if original["type"] == T.TRANSFER_OUT and receipt is not None:
            raise RowError(
                f"transfer_out {key} was received by transfer_in {receipt[0]} in portfolio {receipt[2]}: "
                "reverse that first"
            )
        # The cancelled booking's day and, for a receiving leg, the sending portfolio's (its leg is external again).
        record["affects"].append((original["portfolio_id"], original["trade_date"]))
        if original["type"] == T.TRANSFER_IN and original["reference__portfolio_id"]:
            record["affects"].append((original["reference__portfolio_id"], original["reference__trade_date"]))

    def check_receipt(self, record: dict, original: dict) -> None:
        key = original["external_id"]
        if original["type"] != T.TRANSFER_OUT:
            raise RowError(f"reference {key} is a {original['type']}, not a transfer_out")
        if original["portfolio_id"] != record["counterpart_portfolio_id"]:
            raise RowError(
                f"transfer_out {key} is a booking of portfolio {original['portfolio__number']}, not of "
                f"counterpart_portfolio {record['counterpart_number']}"
            )
        if original["counterpart_portfolio_id"] != record["portfolio_id"]:
            raise RowError(
                f"transfer_out {key} does not name portfolio {record['portfolio_number']} in its counterpart_portfolio"
            )
        if original["trade_date"] != record["trade_date"]:
            raise RowError(
                f"transfer_out {key} is dated {original['trade_date']}: both legs of a transfer between "
                "portfolios fall on one day"
            )
        if (original["instrument_id"], original["quantity"]) != (record["instrument_id"], record["quantity"]):
            raise RowError(
                f"transfer_out {key} moves {original['quantity']} of {original['instrument__isin']}: the "
                "transfer_in must receive the same"
            )
        if self._is_reversed(original["id"]):
            raise RowError(f"transfer_out {key} is reversed")
        other = self._taken(original, T.TRANSFER_IN, record)
        if other:
            raise RowError(f"transfer_out {key} is already received by {other}")
        # The sending leg now moves securities inside the client: no flow of the client any more.
        record["affects"].append((original["portfolio_id"], original["trade_date"]))

    @staticmethod
    def affected_by(pk: int) -> list[tuple[int, object]]:
        """The (portfolio, day) pairs a row referring to booking `pk` touched: the booking's, and its sender's."""
        row = (
            Transaction.objects.filter(pk=pk)
            .values_list("portfolio_id", "trade_date", "reference__portfolio_id", "reference__trade_date")
            .first()
        )
        if row is None:
            return []
        affected = [(row[0], row[1])]
        if row[2] is not None:
            affected.append((row[2], row[3]))
        return affected
