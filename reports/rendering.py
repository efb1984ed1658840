"""Turn a queued report into a PDF: claim it, gather, render, store, tell the requester.

A worker claims the report with a conditional update (queued → running, or a run whose heartbeat
stopped), so two workers never render the same report; progress and a heartbeat are committed step
by step, for the page to show and for the sweep (services.reports_recover_stuck) to tell a live
render from one whose worker died. Each claim counts as an attempt; a report gets at most
REPORTS_RENDER_MAX_ATTEMPTS. A render that ends in an error gives its claim back, so that the
task's retry can take it at once. Rendering twice is harmless: only the first finished render
stores its file, writes the audit event and notifies the requester and, for a client report, the
client (a statement is the client's document: they find it in the client zone).

Access is checked again here with the requester's rights today: a client taken away since the
request is not rendered. A statement issued on schedule has no requester to check.
"""

import hashlib
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Q
from django.http import Http404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from clients.selectors import access_client
from portal.audit.services import audit_record
from portal.notifications.services import notify
from portal.pdf import pdf_from_html

from . import documents, permissions
from .models import Report

TEMPLATES = {
    Report.Kind.STATEMENT: "reports/pdf/portfolio_statement.html",
    Report.Kind.COSTS: "reports/pdf/costs_charges.html",
    Report.Kind.INDUCEMENTS: "reports/pdf/inducements.html",
}


class ReportRefused(Exception):
    """The requester may no longer see the report's subject."""


def stuck_before(now: datetime) -> datetime:
    """A render with no sign of life since this moment has lost its worker (or its task)."""
    return now - timedelta(seconds=settings.REPORTS_STUCK_SECONDS)


def stuck_q(now: datetime) -> Q:
    """Reports queued and never taken, or running without a heartbeat, since `stuck_before(now)`."""
    before = stuck_before(now)
    return (
        Q(status=Report.Status.QUEUED, queued_at__lt=before)
        | Q(status=Report.Status.RUNNING, heartbeat_at__lt=before)
        # Runs claimed before heartbeats were written have only their start.
        | Q(status=Report.Status.RUNNING, heartbeat_at__isnull=True, started_at__lt=before)
    )


def report_claim(report_id: int) -> bool:
    now = timezone.now()
    claimable = Q(status=Report.Status.QUEUED) | (Q(status=Report.Status.RUNNING) & stuck_q(now))
    return bool(
        Report.objects.filter(claimable, pk=report_id, attempts__lt=settings.REPORTS_RENDER_MAX_ATTEMPTS).update(
            status=Report.Status.RUNNING, started_at=now, heartbeat_at=now, progress=5, attempts=F("attempts") + 1
        )
    )


def report_release(report_id: int) -> None:
    """Give a claim back after a failed attempt: queued again, for the task's retry or the sweep."""
    Report.objects.filter(pk=report_id, status=Report.Status.RUNNING).update(
        status=Report.Status.QUEUED, queued_at=timezone.now(), progress=0
    )


def report_render(report_id: int) -> Report | None:
    """Render one report if it is still to do; returns it, or None when another worker has it."""
    if not report_claim(report_id):
        return None
    try:
        return _render_claimed(report_id)
    except Exception:
        # Whatever went wrong, the claim goes back before the error reaches the task: a retry can
        # take the report at once, and a permanent failure is recorded by the task's on_failure.
        report_release(report_id)
        raise


def _render_claimed(report_id: int) -> Report:
    report = Report.objects.select_related(
        "client", "client__advisor", "client__user", "broker", "broker__organisation", "requested_by"
    ).get(pk=report_id)
    try:
        _check_access(report)
    except ReportRefused as refused:
        report_fail(report_id, str(refused))
        return Report.objects.get(pk=report_id)
    with translation.override(report.language):
        document = documents.document_build(report)
        digest = documents.inputs_hash(report, document)
        _progress(report_id, 40)
        html = render_to_string(
            TEMPLATES[report.kind],
            {
                "report": report,
                "doc": document,
                "inputs_hash": digest,
                "method": documents.METHOD,
                "footer": _css_string(
                    _("%(start)s to %(end)s · method %(method)s · inputs sha256:%(hash)s")
                    % {
                        "start": report.period_start.isoformat(),
                        "end": report.period_end.isoformat(),
                        "method": documents.METHOD,
                        "hash": digest[:16],
                    }
                ),
                "rendered_at": timezone.now(),
            },
        )
        _progress(report_id, 60)
        data = pdf_from_html(html, identifier=digest[:32].encode())
    _progress(report_id, 90)
    storage = Report.file.field.storage
    name = storage.save(Report.file.field.generate_filename(report, report.download_name), ContentFile(data))
    with transaction.atomic():
        # Queued again by the sweep while this worker was only slow: its result is as good.
        done = Report.objects.filter(
            pk=report_id, status__in=[Report.Status.RUNNING, Report.Status.QUEUED], file=""
        ).update(
            status=Report.Status.READY,
            progress=100,
            file=name,
            file_sha256=hashlib.sha256(data).hexdigest(),
            inputs_hash=digest,
            method=documents.METHOD,
            finished_at=timezone.now(),
            error="",
        )
        if done:
            audit_record(
                action="reports.rendered",
                obj=report,
                actor_label="system",
                changes={"inputs_hash": digest, "bytes": len(data)},
            )
            if report.requested_by_id:
                notify(
                    user=report.requested_by,
                    event="reports.ready",
                    context={
                        # The report itself: the notification keeps its kind code and the texts
                        # label it in the reader's language when shown (rows written before this
                        # kept the label as text and still read as written).
                        "report": report,
                        "subject": report.subject_label,
                        "start": report.period_start,
                        "end": report.period_end,
                    },
                    link=reverse("reports:report-list"),
                    idempotency_key=f"report-ready:{report.pk}",
                )
            _client_notify(report)
    if not done:
        storage.delete(name)
    return Report.objects.get(pk=report_id)


def report_fail(report_id: int, message: str) -> None:
    with transaction.atomic():
        failed = (
            Report.objects.filter(pk=report_id)
            .exclude(status=Report.Status.READY)
            .update(status=Report.Status.FAILED, error=message[:300], finished_at=timezone.now())
        )
        if failed:
            report = Report.objects.get(pk=report_id)
            audit_record(action="reports.failed", obj=report, actor_label="system", changes={"error": message[:300]})


def _client_notify(report: Report) -> None:
    """Tell the client that a statement of theirs is ready, once (the key makes a repeat a no-op)."""
    user = report.client.user if report.is_client_document and report.client_id else None
    if user is None or not user.is_active:
        return
    notify(
        user=user,
        event="reports.statement_ready",
        # The kind as its code: the texts name it in the reader's language.
        context={"kind": report.kind, "start": report.period_start, "end": report.period_end},
        link=reverse("reports:statement-download", args=[report.pk]),
        idempotency_key=f"statement-ready:{report.pk}",
    )


def _check_access(report: Report) -> None:
    actor = report.requested_by
    if actor is None:
        return  # issued on schedule to a client with a portfolio: no requester whose rights could change
    if not permissions.can_request_reports(actor):
        raise ReportRefused(_("The requester may no longer request reports."))
    if report.client_id:
        try:
            access_client(actor=actor, client_id=report.client_id)
        except Http404:
            raise ReportRefused(_("The requester may no longer see this client.")) from None
    elif not permissions.may_disclose_for(actor, report.broker):
        raise ReportRefused(_("The requester may no longer disclose this broker's commissions."))


def _progress(report_id: int, percent: int) -> None:
    """Committed at once: the page shows it, and the sweep sees the render is alive."""
    Report.objects.filter(pk=report_id, status=Report.Status.RUNNING).update(
        progress=percent, heartbeat_at=timezone.now()
    )


def _css_string(text: str) -> str:
    """Text for a CSS `content: "…"` value: quotes and backslashes escaped, no line breaks."""
    return " ".join(text.split()).replace("\\", "\\\\").replace('"', '\\"')
