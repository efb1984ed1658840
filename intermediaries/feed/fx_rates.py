"""fx_rates.csv: a currency's rate against the euro on a day, by currency and date."""

from ..models import FxRate
from .importer import FileImporter
from .report import earliest
from .values import RowError, model_field, parse_currency, parse_date, parse_decimal


class FxRateImporter(FileImporter):
    file_name = "fx_rates.csv"
    columns = ("currency", "date", "rate")
    model = FxRate
    key_fields = ("currency", "date")
    fields = ("rate",)

    def parse(self, values):
        currency = parse_currency(values, "currency")
        if currency == "EUR":
            raise RowError("currency EUR is the base currency; its rate is always 1")
        return {
            "currency": currency,
            "date": parse_date(values, "date"),
            "rate": parse_decimal(values, "rate", model_field=model_field(FxRate, "rate"), minimum="positive"),
        }

    def describe(self, record):
        return f"the {record['currency']} rate on {record['date']}"

    def created(self, record):
        earliest(self.changes.fx, record["currency"], record["date"])

    def changed(self, old, record, fields):
        earliest(self.changes.fx, old.currency, old.date)
