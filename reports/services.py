"""Writes of the reports app: a request (queued for Celery after commit) and its audit event."""

from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clients.selectors import client_list
from portal.audit.services import audit_record

from . import permissions
from .models import Report

MAX_DAYS = 366
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

    The same request while an identical one is still queued or running returns that one.
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
        if same is not None:
            return same
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
        from .tasks import report_render

        transaction.on_commit(lambda: report_render.delay(report.pk))
    return report


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
