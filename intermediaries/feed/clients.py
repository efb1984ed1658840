"""clients.csv: the dealer's clients, by client number, and the broker each is assigned to.

The clients belong to the `clients` app, so their rows are written by its service
`clients_import` (one call per batch, inside this file's transaction); the feed only reads them.
"""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from clients.models import Client
from clients.services import CLIENT_IMPORT_FIELDS, clients_import

from ..models import Intermediary, Portfolio
from .importer import FileImporter
from .report import earliest
from .values import RowError, model_field, parse_choice, parse_country, parse_date, parse_text


class ClientImporter(FileImporter):
    file_name = "clients.csv"
    columns = (
        "client_number",
        "first_name",
        "last_name",
        "email",
        "phone",
        "street",
        "postcode",
        "city",
        "country",
        "birth_date",
        "status",
        "intermediary_number",
    )
    model = Client
    key_fields = ("number",)
    fields = CLIENT_IMPORT_FIELDS

    def prepare(self):
        # A few thousand brokers at most: one query for the whole file.
        self.advisors = dict(Intermediary.objects.values_list("number", "user_id"))
        self.reassigned: list[int] = []

    def parse(self, values):
        def text(column, name=None, required=False):
            max_length = model_field(Client, name or column).max_length
            return parse_text(values, column, max_length=max_length, required=required)

        email = text("email")
        if email:
            try:
                validate_email(email)
            except ValidationError:
                raise RowError(f"email {email!r} is not an e-mail address") from None
        country = parse_country(values, "country")
        intermediary = values["intermediary_number"]
        if intermediary and intermediary not in self.advisors:
            raise RowError(f"unknown intermediary_number {intermediary!r}")
        return {
            "number": text("client_number", "number", required=True),
            "first_name": text("first_name", required=True),
            "last_name": text("last_name", required=True),
            "email": email,
            "phone": text("phone"),
            "street": text("street"),
            "postcode": text("postcode"),
            "city": text("city"),
            "country": country,
            "birth_date": parse_date(values, "birth_date", required=False),
            "status": parse_choice(values, "status", Client.Status),
            "advisor_id": self.advisors.get(intermediary),
        }

    def describe(self, record):
        return f"client {record['number']}"

    def write(self, new, changed):
        # Every row was validated by parse(); clients_import checks the batch again and raises
        # ValidationError for what it cannot write, which fails the file (a bug, not a bad row).
        return clients_import(
            created=new,
            updated={pk: {name: record[name] for name in CLIENT_IMPORT_FIELDS} for pk, record in changed},
        )

    def changed(self, old, record, fields):
        if "advisor_id" in fields:
            self.changes.advisors.update(a for a in (old.advisor_id, record["advisor_id"]) if a is not None)
            self.reassigned.append(old.pk)

    def batch_done(self):
        # A client who moves to another broker moves every portfolio's whole history between books.
        if self.reassigned:
            portfolios = Portfolio.objects.filter(client_id__in=self.reassigned).values_list(
                "id", "opened_on", named=True
            )
            for portfolio in portfolios:
                earliest(self.changes.portfolios, portfolio.id, portfolio.opened_on)
            self.reassigned = []
