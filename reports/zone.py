"""The client's statements in the client zone: the documents list and the data export.

Registered in apps.py through `clients.zone` (the registry `clients` offers the apps above it).
Both take the client the zone resolved for the signed-in user (`clients.zone.zone_client`), so they
read only that client's statements; the downloads answer under the reports policy ("document").
"""

import calendar
from datetime import date

from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clients.zone import DataExportPart, DocumentSource, ExportFile, ZoneDocument

from . import selectors
from .models import Report

SOURCE_LABEL = gettext_lazy("Statements")


def kind_label(kind: str) -> str:
    if kind == Report.Kind.COSTS:
        return _("Costs and charges statement")
    return _("Portfolio statement")


def period_label(start: date, end: date) -> str:
    """The period as a title names it: the year, the quarter ("Q3 2026"), or its first and last day."""
    if start == date(start.year, 1, 1) and end == date(start.year, 12, 31):
        return str(start.year)
    quarter_end = start.month in (1, 4, 7, 10) and end.year == start.year and end.month == start.month + 2
    if start.day == 1 and quarter_end and end.day == calendar.monthrange(end.year, end.month)[1]:
        return _("Q%(quarter)d %(year)d") % {"quarter": (start.month - 1) // 3 + 1, "year": start.year}
    return f"{formats.date_format(start, 'SHORT_DATE_FORMAT')} – {formats.date_format(end, 'SHORT_DATE_FORMAT')}"


def statement_title(report: Report) -> str:
    return f"{kind_label(report.kind)} {period_label(report.period_start, report.period_end)}"


def statement_documents(client) -> list[ZoneDocument]:
    return [
        ZoneDocument(
            title=statement_title(report),
            kind=kind_label(report.kind),
            date=timezone.localdate(report.finished_at) if report.finished_at else report.period_end,
            url=reverse("reports:statement-download", args=[report.pk]),
            is_new=report.client_downloaded_at is None,
        )
        for report in selectors.statement_list_of(client=client)
    ]


def statements_export(client) -> tuple[list[dict], list[ExportFile]]:
    """The statements as PDFs in `statements/`, and a list of them for the export's JSON."""
    listed, files = [], []
    for report in selectors.statement_list_of(client=client):
        name = f"statements/{report.download_name}"
        listed.append(
            {
                "title": statement_title(report),
                "kind": report.kind,
                "period_start": report.period_start.isoformat(),
                "period_end": report.period_end.isoformat(),
                "issued_at": report.finished_at.isoformat() if report.finished_at else None,
                "file": name,
                "sha256": report.file_sha256,
                "inputs_hash": report.inputs_hash,
            }
        )
        files.append(ExportFile(name=name, content=_reader(report)))
    return listed, files


def _reader(report: Report):
    def read() -> bytes:
        with report.file.open("rb") as handle:
            return handle.read()

    return read


source = DocumentSource(key="statements", label=SOURCE_LABEL, documents=statement_documents, order=20)
export_part = DataExportPart(key="statements", build=statements_export, order=40)
