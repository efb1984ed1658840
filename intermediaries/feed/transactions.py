"""transactions.csv: the bookings of the core system, by transaction id.

Besides plain bookings the file carries what refers to something else (docs/core-feed.md): a
reversal names the booking it cancels (`reference`); a transfer between two portfolios of one
client names the other portfolio on both legs (`counterpart_portfolio`) and its receiving leg
names the sending one (`reference`); a split gives its `ratio`. Those references are checked
here, row by row, against what is imported already and the rows before them in the file
(`references`).
"""

from collections import defaultdict

from ..models import Portfolio, Transaction, TransactionType
from .importer import FileImporter
from .instruments import instrument_ids
from .references import ReferenceChecks, counterpart_error
from .report import earliest
from .values import (
    RowError,
    model_field,
    parse_choice,
    parse_currency,
    parse_date,
    parse_decimal,
    parse_isin,
    parse_text,
)

T = TransactionType
# Types that move securities, and therefore need an ISIN and a quantity.
SECURITY_TYPES = {T.BUY, T.SELL, T.TRANSFER_IN, T.TRANSFER_OUT, T.WRITE_OFF}
ISIN_REQUIRED_TYPES = SECURITY_TYPES | {T.DIVIDEND, T.SPLIT}
TRADE_TYPES = (T.BUY, T.SELL)
# Types that move no cash: no amount, no price.
NO_CASH_TYPES = (T.SPLIT, T.WRITE_OFF)
TRANSFER_TYPES = (T.TRANSFER_IN, T.TRANSFER_OUT)


def _must_be_empty(values: dict, column: str, reason: str) -> None:
    value = values[column]
    if value and value.strip("0.") != "":
        raise RowError(f"{column} must be empty: {reason}")


class TransactionImporter(FileImporter):
    file_name = "transactions.csv"
    columns = (
        "transaction_id",
        "portfolio_number",
        "type",
        "trade_date",
        "isin",
        "quantity",
        "price",
        "amount",
        "currency",
        "reference",
        "ratio",
        "counterpart_portfolio",
    )
    optional_columns = ("reference", "ratio", "counterpart_portfolio")
    model = Transaction
    key_fields = ("external_id",)
    fields = (
        "portfolio_id",
        "type",
        "trade_date",
        "instrument_id",
        "quantity",
        "price",
        "amount",
        "currency",
        "ratio",
        "reference_id",
        "counterpart_portfolio_id",
    )

    def parse(self, values):
        kind = parse_choice(values, "type", TransactionType)
        isin = parse_isin(values, "isin", required=False)
        if kind in ISIN_REQUIRED_TYPES and not isin:
            raise RowError(f"a {kind} needs an isin")
        if kind in NO_CASH_TYPES:
            _must_be_empty(values, "amount", f"a {kind} moves no cash")
            _must_be_empty(values, "price", f"a {kind} moves no cash")
        if kind == T.SPLIT:
            _must_be_empty(values, "quantity", "a split's new quantity follows from its ratio")
        quantity = parse_decimal(
            values,
            "quantity",
            model_field=model_field(Transaction, "quantity"),
            minimum="positive" if kind in SECURITY_TYPES else "zero",
            required=kind in SECURITY_TYPES,
        )
        price = parse_decimal(
            values,
            "price",
            model_field=model_field(Transaction, "price"),
            minimum="positive" if kind in TRADE_TYPES else "zero",
            required=kind in TRADE_TYPES,
        )
        external_id = parse_text(
            values, "transaction_id", max_length=model_field(Transaction, "external_id").max_length
        )
        return {
            "external_id": external_id,
            "portfolio_number": parse_text(
                values, "portfolio_number", max_length=model_field(Portfolio, "number").max_length
            ),
            "type": kind,
            "trade_date": parse_date(values, "trade_date"),
            "isin": isin,
            "quantity": quantity,
            "price": price,
            "amount": parse_decimal(
                values,
                "amount",
                model_field=model_field(Transaction, "amount"),
                minimum="zero",
                required=kind not in NO_CASH_TYPES,
            ),
            "currency": parse_currency(values, "currency"),
            "ratio": self.parse_ratio(values, kind),
            **self.parse_references(values, kind, external_id),
        }

    @staticmethod
    def parse_ratio(values, kind):
        if kind != T.SPLIT:
            if values["ratio"]:
                raise RowError("ratio is only for a split")
            return None
        ratio = parse_decimal(values, "ratio", model_field=model_field(Transaction, "ratio"))
        if ratio <= 0:
            raise RowError(f"a split needs a ratio greater than 0 (units after per unit before), not {values['ratio']}")
        if ratio == 1:
            raise RowError("a split with a ratio of 1 changes nothing")
        return ratio

    @staticmethod
    def parse_references(values, kind, external_id):
        """`reference_key` (a transaction id) and `counterpart_number` (a portfolio number), checked for the type."""
        reference = parse_text(
            values, "reference", max_length=model_field(Transaction, "external_id").max_length, required=False
        )
        counterpart = parse_text(
            values, "counterpart_portfolio", max_length=model_field(Portfolio, "number").max_length, required=False
        )
        if counterpart and kind not in TRANSFER_TYPES:
            raise RowError("counterpart_portfolio is only for transfer_in and transfer_out")
        if kind == T.REVERSAL and not reference:
            raise RowError("a reversal needs the transaction_id of the booking it cancels in reference")
        if kind == T.TRANSFER_IN and counterpart and not reference:
            raise RowError(
                "a transfer_in from another portfolio of the client needs the transaction_id of its "
                "transfer_out in reference"
            )
        if kind == T.TRANSFER_IN and reference and not counterpart:
            raise RowError("a transfer_in with a reference needs the portfolio it comes from in counterpart_portfolio")
        if reference and kind not in (T.REVERSAL, T.TRANSFER_IN):
            raise RowError("reference is only for a reversal and for a transfer_in from another portfolio")
        if reference and reference == external_id:
            raise RowError("a booking cannot refer to itself")
        return {"reference_key": reference, "counterpart_number": counterpart}

    def apply(self, rows):
        """A row that refers to an earlier row of the same batch waits until that row is written.

        Repeated keys are dropped first (the first occurrence wins); then the batch goes in waves:
        rows referring to nothing in the batch, then those referring to those, and so on.
        """
        first_line: dict[str, int] = {}
        depth: dict[str, int] = {}
        waves: dict[int, list] = defaultdict(list)
        for line, record in rows:
            key = record["external_id"]
            if key in first_line:
                self.report.error(line, f"{self.describe(record)} repeats line {first_line[key]}")
                continue
            first_line[key] = line
            reference = record["reference_key"]
            depth[key] = depth[reference] + 1 if reference in depth else 0
            waves[depth[key]].append((line, record))
        for level in sorted(waves):
            super().apply(waves[level])

    def resolve(self, rows):
        numbers = {record["portfolio_number"] for _, record in rows}
        numbers |= {record["counterpart_number"] for _, record in rows if record["counterpart_number"]}
        portfolios = {
            number: (pk, client_id)
            for number, pk, client_id in Portfolio.objects.filter(number__in=numbers).values_list(
                "number", "id", "client_id"
            )
        }
        instruments = instrument_ids(record["isin"] for _, record in rows if record["isin"])
        checks = ReferenceChecks({record["reference_key"] for _, record in rows if record["reference_key"]})
        resolved = []
        for line, record in rows:
            if record["portfolio_number"] not in portfolios:
                self.report.error(line, f"unknown portfolio_number {record['portfolio_number']!r}")
                continue
            if record["isin"] and record["isin"] not in instruments:
                self.report.error(line, f"unknown ISIN {record['isin']}: not in instruments.csv nor the database")
                continue
            record["portfolio_id"], client_id = portfolios[record["portfolio_number"]]
            record["instrument_id"] = instruments.get(record["isin"])
            record["counterpart_portfolio_id"] = None
            record["reference_id"] = None
            record["affects"] = []
            try:
                if record["counterpart_number"]:
                    record["counterpart_portfolio_id"] = self.counterpart(record, portfolios, client_id)
                if record["reference_key"]:
                    checks.check(record)
            except RowError as exc:
                self.report.error(line, str(exc))
                continue
            resolved.append((line, record))
        return resolved

    @staticmethod
    def counterpart(record, portfolios, client_id) -> int:
        number = record["counterpart_number"]
        found = portfolios.get(number)
        error = counterpart_error(number, found, own=record["portfolio_id"], client_id=client_id)
        if error:
            raise RowError(error)
        return found[0]

    def describe(self, record):
        return f"transaction {record['external_id']}"

    def created(self, record):
        earliest(self.changes.portfolios, record["portfolio_id"], record["trade_date"])
        for portfolio_id, day in record["affects"]:
            earliest(self.changes.portfolios, portfolio_id, day)

    def changed(self, old, record, fields):
        earliest(self.changes.portfolios, old.portfolio_id, old.trade_date)
        self.created(record)
        if "reference_id" in fields and old.reference_id:
            # What the old reference cancelled or sent counts again, from its day.
            for portfolio_id, day in ReferenceChecks.affected_by(old.reference_id):
                earliest(self.changes.portfolios, portfolio_id, day)
