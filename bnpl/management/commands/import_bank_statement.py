"""manage.py import_bank_statement FILE: read a camt.053/054 statement and apply it (bnpl/statements.py)."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from bnpl.statements import bank_statement_import


class Command(BaseCommand):
    help = "Import a bank statement (camt.053 or camt.054): mark instalments paid, partly paid or returned."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="the statement's XML file")

    def handle(self, *args, file: Path, **options):
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror or exc}") from exc
        try:
            result = bank_statement_import(actor=None, data=data, file_name=file.name)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(result.message)
