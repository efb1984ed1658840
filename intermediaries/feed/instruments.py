"""instruments.csv: the securities, by ISIN."""

from collections.abc import Iterable

from django.db.models import Min

from ..models import AssetClass, Instrument, Price
from .importer import FileImporter
from .report import earliest
from .values import model_field, parse_choice, parse_currency, parse_isin, parse_text


def instrument_ids(isins: Iterable[str]) -> dict[str, int]:
    """The ids of the instruments with these ISINs, by ISIN (unknown ones are left out)."""
    return dict(Instrument.objects.filter(isin__in=set(isins)).values_list("isin", "id"))


class InstrumentImporter(FileImporter):
    file_name = "instruments.csv"
    columns = ("isin", "name", "asset_class", "currency")
    model = Instrument
    key_fields = ("isin",)
    fields = ("name", "asset_class", "currency")

    def prepare(self):
        self.currency_changed: list[int] = []

    def parse(self, values):
        return {
            "isin": parse_isin(values, "isin"),
            "name": parse_text(values, "name", max_length=model_field(Instrument, "name").max_length),
            "asset_class": parse_choice(values, "asset_class", AssetClass),
            "currency": parse_currency(values, "currency"),
        }

    def describe(self, record):
        return f"ISIN {record['isin']}"

    def changed(self, old, record, fields):
        if "currency" in fields:
            self.currency_changed.append(old.pk)

    def batch_done(self):
        # A new currency re-prices every close of the instrument: changed from its first price on.
        if self.currency_changed:
            first_prices = (
                Price.objects.filter(instrument_id__in=self.currency_changed)
                .values("instrument_id")
                .annotate(first=Min("date"))
                .values_list("instrument_id", "first", named=True)
            )
            for price in first_prices:
                earliest(self.changes.prices, price.instrument_id, price.first)
            self.currency_changed = []
