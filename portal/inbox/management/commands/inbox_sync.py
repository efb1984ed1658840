from django.core.management.base import BaseCommand

from portal.inbox.services import work_items_sync


class Command(BaseCommand):
    help = "Open the work items of objects still waiting, for every kind that can say which (safe to run twice)."

    def handle(self, *args, **options):
        for kind, count in work_items_sync().items():
            self.stdout.write(f"{kind}: {count} open")
