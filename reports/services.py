"""Writes of the reports app: a request (queued for Celery after commit) and its audit event, the
statements issued on schedule, a client's first download, and the recovery of renders whose
worker died."""

import logging
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from clients.selectors import client_list
from portal.audit.services import audit_record
from portal.core.task_retry import TRANSIENT_ERRORS

from . import permissions, rendering, selectors
from .models import CLIENT_KINDS, Report

logger = logging.getLogger(__name__)

MAX_DAYS = 366
RECOVER_BATCH = 100
MAX_PENDING = 10
EARLIEST = date(2000, 1, 1)
# Statements the schedule issues in one run at most; the next run issues the rest. It keeps the
# queue short enough for the workers to drain between runs.
ISSUE_BATCH = 1000


def report_request(
    *,
    actor,
    kind: str,
    period_start: date | None,
    period_end: date | None,
    client_id=None,
    broker_id=None,
) -> Report:
    """Queue a report. Bad input raises ValidationError naming the field; nothing is written then.

    The same request while an identical one is still queued or running returns that one; if that
    one is stuck (its worker died), it is queued again first, or failed after its last attempt
    and a new one made.
    """
    if not permissions.can_request_reports(actor):
        raise PermissionDenied(_("Your role cannot request reports."))
    errors = {}
    if kind not in Report.Kind.values:
        errors["kind"] = _("Choose a kind of report.")
    errors.update(_period_errors(period_start, period_end))
    client = broker = None
    if kind == Report.Kind.INDUCEMENTS:
        broker = _broker(actor, broker_id)
        if broker is None:
            errors["broker"] = _("Choose a broker whose commissions you may disclose.")
    elif kind in Report.Kind.values:
        client = _client(actor, client_id)
        if client is None:
            errors["client"] = _("Choose one of your clients.")
    if errors:
        raise ValidationError(errors)

    with transaction.atomic(durable=True):
        # The requester's row serialises their requests, so the pending limit and the reuse hold.
        get_user_model().objects.select_for_update().filter(pk=actor.pk).first()
        pending = Report.objects.filter(requested_by=actor, status__in=[Report.Status.QUEUED, Report.Status.RUNNING])
        # With what the API's answer shows, so that nothing is read after the commit.
        same = (
            pending.filter(kind=kind, client=client, broker=broker, period_start=period_start, period_end=period_end)
            .select_related("client", "broker")
            .first()
        )
        if same is not None and report_recover(report_id=same.pk, actor=actor) != Report.Status.FAILED:
            # Read again inside the transaction (a stuck render was queued again just now).
            return Report.objects.select_related("client", "broker").get(pk=same.pk)
        if pending.count() >= MAX_PENDING:
            raise ValidationError(
                _("You have %(count)d reports in progress; wait for them to finish.") % {"count": MAX_PENDING},
                code="too_many",
            )
        report = Report.objects.create(
            requested_by=actor,
            kind=kind,
            client=client,
            broker=broker,
            period_start=period_start,
            period_end=period_end,
            language=_language_of(actor),
        )
        audit_record(
            action="reports.requested",
            actor=actor,
            obj=report,
            changes={
                "kind": kind,
                "client": client.number if client else None,
                "broker": broker.email if broker else None,
                "period": [period_start.isoformat(), period_end.isoformat()],
            },
        )
        transaction.on_commit(lambda: _render_publish(report.pk))
    return report


# --- statements issued on schedule ------------------------------------------------------------


def last_quarter(today: date) -> tuple[date, date]:
    """The last calendar quarter that ended before `today`."""
    quarter_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    end = quarter_start - timedelta(days=1)
    return date(end.year, end.month - 2, 1), end


def last_calendar_year(today: date) -> tuple[date, date]:
    return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)


def statements_issue(
    *, kind: str, period_start: date, period_end: date, client_ids=None, limit: int = ISSUE_BATCH
) -> list[int]:
    """Issue the statement of this kind and period to every client who had a portfolio in the period
    and has none yet (only to `client_ids`, if given); at most `limit`. Returns the new reports' ids.

    Each is a report without a requester, rendered by Celery after its commit like any other (so a
    killed worker's render is swept like any other). Running again, or twice at once, issues no
    second statement: the due clients leave out those who have one, and the constraint
    `report_scheduled_once` refuses a racing duplicate, which is then skipped.
    """
    if kind not in CLIENT_KINDS:
        raise ValueError(f"Statements are client reports ({', '.join(CLIENT_KINDS)}), not {kind!r}.")
    due = selectors.clients_due_statement(kind=kind, period_start=period_start, period_end=period_end)
    if client_ids is not None:
        due = due.filter(pk__in=list(client_ids))
    issued = []
    for client in due.select_related("user")[:limit]:
        try:
            with transaction.atomic():
                report = Report.objects.create(
                    requested_by=None,
                    kind=kind,
                    client=client,
                    period_start=period_start,
                    period_end=period_end,
                    language=_language_of(client.user),
                )
                audit_record(
                    action="reports.issued",
                    actor_label="system",
                    obj=report,
                    changes={
                        "kind": kind,
                        "client": client.number,
                        "period": [period_start.isoformat(), period_end.isoformat()],
                    },
                )
                transaction.on_commit(lambda pk=report.pk: _render_publish(pk))
        except IntegrityError:
            continue  # another run issued this client's statement a moment ago
        issued.append(report.pk)
    return issued


def statements_issue_due(*, today: date | None = None) -> dict[str, int]:
    """The schedule (beat, hourly): the last quarter's portfolio statements for every client with a
    portfolio in it, and in January last year's costs and charges statements. Idempotent."""
    today = today or timezone.localdate()
    start, end = last_quarter(today)
    counts = {"statements": len(statements_issue(kind=Report.Kind.STATEMENT, period_start=start, period_end=end))}
    if today.month == 1:
        start, end = last_calendar_year(today)
        counts["costs"] = len(statements_issue(kind=Report.Kind.COSTS, period_start=start, period_end=end))
    if any(counts.values()):
        logger.info("Statements issued: %s", counts)
    return counts


def statement_mark_downloaded(*, actor, report: Report) -> bool:
    """Note the client's first download of their statement (the zone stops calling it new).

    Only the client's own download counts, not their broker's or back office's. Returns whether
    this was the first.
    """
    if report.client_id is None or report.client.user_id != actor.pk:
        return False
    with transaction.atomic():
        marked = Report.objects.filter(pk=report.pk, client_downloaded_at__isnull=True).update(
            client_downloaded_at=timezone.now()
        )
        if marked:
            audit_record(action="reports.statement_downloaded", actor=actor, obj=report)
    return bool(marked)


def _language_of(user) -> str:
    language = getattr(user, "language", "") if user is not None else ""
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def report_recover(*, report_id: int, actor=None, now=None) -> str | None:
    """Queue a stuck render again, or fail it after its last attempt, with an audit event.

    Returns the report's new status, or None when it is not stuck (done, failed, or alive).
    Rendering is idempotent, so a render that was only slow and finishes after all does no harm.
    """
    now = now or timezone.now()
    with transaction.atomic():
        report = Report.objects.select_for_update().filter(rendering.stuck_q(now), pk=report_id).first()
        if report is None:
            return None
        if report.attempts >= settings.REPORTS_RENDER_MAX_ATTEMPTS:
            # In the requester's language, as the page shows it to them.
            with translation.override(report.language):
                error = _("Rendering stopped %(count)d times without finishing; the report was given up.") % {
                    "count": report.attempts
                }
            Report.objects.filter(pk=report_id).update(status=Report.Status.FAILED, error=error, finished_at=now)
            audit_record(
                action="reports.failed",
                actor=actor,
                actor_label="" if actor else "system",
                obj=report,
                changes={"error": error, "attempts": report.attempts},
            )
            return Report.Status.FAILED
        Report.objects.filter(pk=report_id).update(status=Report.Status.QUEUED, queued_at=now, progress=0)
        audit_record(
            action="reports.requeued",
            actor=actor,
            actor_label="" if actor else "system",
            obj=report,
            changes={"status": report.status, "attempts": report.attempts},
        )
        transaction.on_commit(lambda: _render_publish(report_id))
    return Report.Status.QUEUED


def reports_recover_stuck(*, now=None) -> dict[str, int]:
    """The sweep: queue again (or give up) every render stuck for REPORTS_STUCK_SECONDS."""
    now = now or timezone.now()
    stuck = Report.objects.filter(rendering.stuck_q(now)).order_by("pk").values_list("pk", flat=True)
    counts = {"requeued": 0, "failed": 0}
    for report_id in list(stuck[:RECOVER_BATCH]):
        status = report_recover(report_id=report_id, now=now)
        if status == Report.Status.QUEUED:
            counts["requeued"] += 1
        elif status == Report.Status.FAILED:
            counts["failed"] += 1
    if any(counts.values()):
        logger.warning("Reports sweep: %(requeued)s stuck renders queued again, %(failed)s given up", counts)
    return counts


def _render_publish(report_id: int) -> None:
    """Hand the render to the broker; a broker that is away is logged: the sweep queues it later."""
    from .tasks import report_render

    try:
        report_render.delay(report_id)
    except TRANSIENT_ERRORS:
        logger.warning("Could not queue the render of report %s; the sweep will.", report_id, exc_info=True)


def _period_errors(start, end) -> dict:
    if not isinstance(start, date) or not isinstance(end, date):
        return {"period_start": _("Give the first and the last day of the period.")}
    if start > end:
        return {"period_end": _("The last day must not be before the first.")}
    if end >= timezone.localdate():
        return {"period_end": _("The period must have ended: the last day is yesterday at the latest.")}
    if start < EARLIEST:
        return {"period_start": _("The period cannot start before 2000.")}
    if end - start > timedelta(days=MAX_DAYS - 1):
        return {"period_end": _("A report covers at most one year (%(days)d days).") % {"days": MAX_DAYS}}
    return {}


def _client(actor, client_id):
    if client_id in (None, ""):
        return None
    try:
        return client_list(actor=actor).select_related("advisor").get(pk=int(client_id))
    except (ValueError, TypeError, client_list(actor=actor).model.DoesNotExist):
        return None


def _broker(actor, broker_id):
    if broker_id in (None, ""):
        broker_id = actor.pk
    try:
        broker = get_user_model().objects.get(pk=int(broker_id), is_active=True)
    except (ValueError, TypeError, get_user_model().DoesNotExist):
        return None
    return broker if permissions.may_disclose_for(actor, broker) else None
