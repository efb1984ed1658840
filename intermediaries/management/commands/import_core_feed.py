from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from intermediaries.feed import FeedImportBusy, Status, core_feed_import


def _rows(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


class Command(BaseCommand):
    help = (
        "Import the core system's feed (instruments, prices, FX rates, clients, portfolios, transactions) "
        "from DIR. Bad rows are listed as file:line: reason and make the exit status 1; good rows are "
        "imported all the same. Safe to run again: unchanged rows stay untouched."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", metavar="DIR", type=Path, help="directory holding the feed's CSV files")

    def handle(self, *args, directory: Path, **options):
        if not directory.is_dir():
            raise CommandError(f"{directory} is not a directory.")
        try:
            report = core_feed_import(directory=directory)
        except FeedImportBusy as exc:
            raise CommandError(str(exc)) from exc

        for file_report in report.files:
            if file_report.status == Status.MISSING:
                self.stdout.write(f"{file_report.file}: missing, skipped")
            elif file_report.status == Status.REFUSED:
                self.stdout.write(self.style.ERROR(f"{file_report.file}: refused, nothing imported"))
            else:
                self.stdout.write(
                    f"{file_report.file}: {file_report.created} created, {file_report.updated} updated, "
                    f"{file_report.unchanged} unchanged, {_rows(file_report.error_count, 'bad row')}"
                )
        for file_report in report.files:
            for error in file_report.errors:
                self.stderr.write(str(error))
            if file_report.errors_omitted:
                omitted = _rows(file_report.errors_omitted, "more bad row")
                self.stderr.write(f"{file_report.file}: … and {omitted}")

        try:
            from intermediaries.services import valuations_after_import
        except ImportError:
            self.stdout.write(self.style.WARNING("valuations not refreshed"))
        else:
            valuations_after_import(report)

        if report.has_errors:
            files = sum(1 for file_report in report.files if file_report.error_count)
            raise CommandError(
                f"{_rows(report.error_count, 'bad row')} in {_rows(files, 'file')}; the good rows were imported."
            )
        self.stdout.write(self.style.SUCCESS("Core feed imported."))
