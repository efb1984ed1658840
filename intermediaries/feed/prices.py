"""prices.csv: an instrument's close on a day, by ISIN and date."""

from ..models import Price
from .importer import FileImporter
from .instruments import instrument_ids
from .report import earliest
from .values import model_field, parse_date, parse_decimal, parse_isin


class PriceImporter(FileImporter):
    file_name = "prices.csv"
    columns = ("isin", "date", "close")
    model = Price
    key_fields = ("instrument_id", "date")
    fields = ("close",)

    def parse(self, values):
        return {
            "isin": parse_isin(values, "isin"),
            "date": parse_date(values, "date"),
            "close": parse_decimal(values, "close", model_field=model_field(Price, "close"), minimum="positive"),
        }

    def resolve(self, rows):
        ids = instrument_ids(record["isin"] for _, record in rows)
        resolved = []
        for line, record in rows:
            if record["isin"] not in ids:
                self.report.error(line, f"unknown ISIN {record['isin']}: not in instruments.csv nor the database")
                continue
            record["instrument_id"] = ids[record["isin"]]
            resolved.append((line, record))
        return resolved

    def describe(self, record):
        return f"the price of {record['isin']} on {record['date']}"

    def created(self, record):
        earliest(self.changes.prices, record["instrument_id"], record["date"])

    def changed(self, old, record, fields):
        earliest(self.changes.prices, old.instrument_id, old.date)
