"""portfolios.csv: the clients' portfolios (depots), by portfolio number."""

from datetime import date

from clients.models import Client

from ..models import Portfolio
from .importer import FileImporter
from .report import earliest
from .values import model_field, parse_choice, parse_currency, parse_date, parse_text


class PortfolioImporter(FileImporter):
    file_name = "portfolios.csv"
    columns = ("portfolio_number", "client_number", "name", "currency", "opened_on", "status")
    model = Portfolio
    key_fields = ("number",)
    fields = ("client_id", "name", "currency", "opened_on", "status")

    def prepare(self):
        self.moved_between: set[int] = set()

    def parse(self, values):
        return {
            "number": parse_text(values, "portfolio_number", max_length=model_field(Portfolio, "number").max_length),
            "client_number": parse_text(values, "client_number", max_length=model_field(Client, "number").max_length),
            "name": parse_text(values, "name", max_length=model_field(Portfolio, "name").max_length),
            "currency": parse_currency(values, "currency"),
            "opened_on": parse_date(values, "opened_on"),
            "status": parse_choice(values, "status", Portfolio.Status),
        }

    def resolve(self, rows):
        numbers = {record["client_number"] for _, record in rows}
        ids = dict(Client.objects.filter(number__in=numbers).values_list("number", "id"))
        resolved = []
        for line, record in rows:
            if record["client_number"] not in ids:
                self.report.error(line, f"unknown client_number {record['client_number']!r}")
                continue
            record["client_id"] = ids[record["client_number"]]
            resolved.append((line, record))
        return resolved

    def describe(self, record):
        return f"portfolio {record['number']}"

    def changed(self, old, record, fields):
        # Name and status do not change a value; currency, opening day and owner change its whole history.
        # The stored days were valued in the old currency or for the old owner: replay from the
        # first booking (date.min), never resume from them.
        if {"client_id", "currency", "opened_on"} & set(fields):
            earliest(self.changes.portfolios, old.pk, date.min)
        if "client_id" in fields:
            self.moved_between |= {old.client_id, record["client_id"]}

    def batch_done(self):
        if self.moved_between:
            advisors = Client.objects.filter(pk__in=self.moved_between, advisor__isnull=False)
            self.changes.advisors.update(advisors.values_list("advisor_id", flat=True))
            self.moved_between = set()
