"""transactions.csv: the bookings of the core system, by transaction id."""

from ..models import Portfolio, Transaction, TransactionType
from .importer import FileImporter
from .instruments import instrument_ids
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

# Types that move securities, and therefore need an ISIN and a quantity.
SECURITY_TYPES = {TransactionType.BUY, TransactionType.SELL, TransactionType.TRANSFER_IN, TransactionType.TRANSFER_OUT}
ISIN_REQUIRED_TYPES = SECURITY_TYPES | {TransactionType.DIVIDEND}
TRADE_TYPES = (TransactionType.BUY, TransactionType.SELL)


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
    )
    model = Transaction
    key_fields = ("external_id",)
    fields = ("portfolio_id", "type", "trade_date", "instrument_id", "quantity", "price", "amount", "currency")

    def parse(self, values):
        kind = parse_choice(values, "type", TransactionType)
        isin = parse_isin(values, "isin", required=False)
        if kind in ISIN_REQUIRED_TYPES and not isin:
            raise RowError(f"a {kind} needs an isin")
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
        return {
            "external_id": parse_text(
                values, "transaction_id", max_length=model_field(Transaction, "external_id").max_length
            ),
            "portfolio_number": parse_text(
                values, "portfolio_number", max_length=model_field(Portfolio, "number").max_length
            ),
            "type": kind,
            "trade_date": parse_date(values, "trade_date"),
            "isin": isin,
            "quantity": quantity,
            "price": price,
            "amount": parse_decimal(values, "amount", model_field=model_field(Transaction, "amount"), minimum="zero"),
            "currency": parse_currency(values, "currency"),
        }

    def resolve(self, rows):
        numbers = {record["portfolio_number"] for _, record in rows}
        portfolios = dict(Portfolio.objects.filter(number__in=numbers).values_list("number", "id"))
        instruments = instrument_ids(record["isin"] for _, record in rows if record["isin"])
        resolved = []
        for line, record in rows:
            if record["portfolio_number"] not in portfolios:
                self.report.error(line, f"unknown portfolio_number {record['portfolio_number']!r}")
                continue
            if record["isin"] and record["isin"] not in instruments:
                self.report.error(line, f"unknown ISIN {record['isin']}: not in instruments.csv nor the database")
                continue
            record["portfolio_id"] = portfolios[record["portfolio_number"]]
            record["instrument_id"] = instruments.get(record["isin"])
            resolved.append((line, record))
        return resolved

    def describe(self, record):
        return f"transaction {record['external_id']}"

    def created(self, record):
        earliest(self.changes.portfolios, record["portfolio_id"], record["trade_date"])

    def changed(self, old, record, fields):
        earliest(self.changes.portfolios, old.portfolio_id, old.trade_date)
        earliest(self.changes.portfolios, record["portfolio_id"], record["trade_date"])
