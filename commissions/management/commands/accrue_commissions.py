from datetime import date

from django.core.management.base import BaseCommand, CommandError

from commissions import services
from commissions.models import month_start


class Command(BaseCommand):
    help = "Compute the commission accruals of a month (default: the current one) for every broker, or some."

    def add_arguments(self, parser):
        parser.add_argument("--month", help="YYYY-MM; default: this month")
        parser.add_argument("--broker", type=int, action="append", help="a broker's user id (repeatable)")

    def handle(self, *args, month=None, broker=None, **options):
        try:
            period = month_start(date.fromisoformat(f"{month}-01")) if month else month_start(date.today())
        except ValueError:
            raise CommandError("--month takes YYYY-MM, e.g. 2026-09.") from None
        count = services.month_accrue(period=period, broker_ids=broker)
        self.stdout.write(f"{period:%Y-%m}: {count} entries.")
