"""Writes of the reports app: a request (queued for Celery after commit) and its audit event, and
the recovery of renders whose worker died."""

import logging
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from clients.selectors import client_list
from portal.audit.services import audit_record
from portal.core.task_retry import TRANSIENT_ERRORS

from . import permissions, rendering
from .models import Report

logger = logging.getLogger(__name__)

MAX_DAYS = 366
RECOVER_BATCH = 100
MAX_PENDING = 10
EARLIEST = date(2000, 1, 1)


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
            language=actor.language if actor.language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE,
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
