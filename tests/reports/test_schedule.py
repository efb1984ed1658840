"""Statements issued on schedule (beat): who gets one, once per client and period however often the
task runs, the render swept like any report's, and the client told once."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from intermediaries.models import Portfolio
from portal.audit.models import AuditEvent
from portal.notifications.models import Notification, OutboxMessage
from reports import rendering, selectors, services, tasks
from reports.models import Report

from .conftest import OCT_END, Q3_END, Q3_START, SEP

pytestmark = pytest.mark.django_db

DECEMBER = date(2026, 12, 7)  # Q3 2026 is the last quarter that ended
JANUARY = date(2027, 1, 15)  # Q4 2026 and the year 2026 have ended


def scheduled(kind=Report.Kind.STATEMENT):
    return Report.objects.filter(requested_by__isnull=True, kind=kind)


@pytest.mark.parametrize(
    ("today", "quarter"),
    [
        (date(2026, 12, 7), (date(2026, 7, 1), date(2026, 9, 30))),
        (date(2027, 1, 1), (date(2026, 10, 1), date(2026, 12, 31))),
        (date(2026, 4, 1), (date(2026, 1, 1), date(2026, 3, 31))),
        (date(2026, 3, 31), (date(2025, 10, 1), date(2025, 12, 31))),
    ],
)
def test_the_last_quarter_is_the_last_one_that_ended(today, quarter):
    assert services.last_quarter(today) == quarter


def test_every_client_with_a_portfolio_gets_last_quarters_statement_once(
    cast, workspace, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *args, **kwargs: DECEMBER)
    with django_capture_on_commit_callbacks() as queued:
        assert services.statements_issue_due(today=DECEMBER) == {"statements": 4}
    assert len(queued) == 4  # each render is queued after its commit
    reports = scheduled().order_by("client__number")
    assert [r.client.number for r in reports] == ["C1001", "C1002", "C2001", "C3001"]
    assert {(r.period_start, r.period_end, r.status) for r in reports} == {(Q3_START, Q3_END, Report.Status.QUEUED)}
    assert AuditEvent.objects.filter(action="reports.issued", actor_label="system").count() == 4
    # Again, and through the task as beat runs it: nothing new.
    assert services.statements_issue_due(today=DECEMBER) == {"statements": 0}
    tasks.statements_issue_due.apply()
    assert scheduled().count() == 4
    assert not scheduled(Report.Kind.COSTS).exists()  # costs statements only in January


def test_in_january_last_years_costs_statements_are_issued_too_and_only_once(cast, workspace):
    assert services.statements_issue_due(today=JANUARY) == {"statements": 4, "costs": 4}
    assert services.statements_issue_due(today=JANUARY) == {"statements": 0, "costs": 0}
    costs = scheduled(Report.Kind.COSTS)
    assert {(r.period_start, r.period_end) for r in costs} == {(date(2026, 1, 1), date(2026, 12, 31))}


def test_clients_without_a_portfolio_in_the_period_get_none(cast, workspace):
    Portfolio.objects.filter(client=workspace.bert).update(opened_on=date(2026, 10, 1))  # after Q3
    Portfolio.objects.filter(client=workspace.carla).update(
        status=Portfolio.Status.CLOSED, valued_on=date(2026, 6, 30)
    )  # closed before Q3
    services.statements_issue_due(today=DECEMBER)
    assert set(scheduled().values_list("client__number", flat=True)) == {"C1001", "C3001"}


def test_a_statement_a_broker_asked_for_counts_unless_it_failed(cast, workspace):
    asked = services.report_request(
        actor=cast.broker1,
        kind=Report.Kind.STATEMENT,
        client_id=workspace.anna.pk,
        period_start=Q3_START,
        period_end=Q3_END,
    )
    services.statements_issue_due(today=DECEMBER)
    assert not scheduled().filter(client=workspace.anna).exists()
    # A request that failed is no statement: the schedule issues one after all.
    Report.objects.filter(pk=asked.pk).update(status=Report.Status.FAILED)
    services.statements_issue_due(today=DECEMBER)
    assert scheduled().filter(client=workspace.anna).count() == 1


def test_a_failed_scheduled_statement_is_not_issued_again_every_run(cast, workspace):
    services.statements_issue_due(today=DECEMBER)
    scheduled().update(status=Report.Status.FAILED)
    assert services.statements_issue_due(today=DECEMBER) == {"statements": 0}


def test_two_runs_racing_issue_one_statement_the_constraint_refuses_the_second(cast, workspace, monkeypatch):
    services.statements_issue(kind=Report.Kind.STATEMENT, period_start=Q3_START, period_end=Q3_END)
    # The second run read the due clients before the first committed: it tries them all again.
    everyone = type(workspace.anna).objects.order_by("pk")
    monkeypatch.setattr(selectors, "clients_due_statement", lambda **kwargs: everyone)
    assert services.statements_issue(kind=Report.Kind.STATEMENT, period_start=Q3_START, period_end=Q3_END) == []
    assert scheduled().count() == 4


def test_a_run_issues_at_most_a_batch_and_the_next_run_the_rest(cast, workspace):
    first = services.statements_issue(kind=Report.Kind.STATEMENT, period_start=Q3_START, period_end=Q3_END, limit=3)
    rest = services.statements_issue(kind=Report.Kind.STATEMENT, period_start=Q3_START, period_end=Q3_END, limit=3)
    assert len(first) == 3 and len(rest) == 1 and scheduled().count() == 4


def test_a_scheduled_render_whose_worker_died_is_swept_and_then_rendered(cast, workspace, media):
    (report_id,) = services.statements_issue(
        kind=Report.Kind.STATEMENT, period_start=SEP, period_end=OCT_END, client_ids=[workspace.anna.pk]
    )
    assert rendering.report_claim(report_id)  # a worker took it and was killed
    later = timezone.now() + timedelta(seconds=3600)
    assert services.reports_recover_stuck(now=later) == {"requeued": 1, "failed": 0}
    report = rendering.report_render(report_id)
    assert report.status == Report.Status.READY and report.attempts == 2


def test_the_client_is_told_once_when_a_statement_is_ready(cast, workspace, media):
    (report_id,) = services.statements_issue(
        kind=Report.Kind.STATEMENT, period_start=SEP, period_end=OCT_END, client_ids=[workspace.anna.pk]
    )
    rendering.report_render(report_id)
    rendering.report_render(report_id)  # a second render of a ready one does nothing
    rendering._client_notify(Report.objects.select_related("client__user").get(pk=report_id))  # nor a repeat
    notification = Notification.objects.get(user=cast.client1, event="reports.statement_ready")
    assert notification.title == "New portfolio statement"
    assert notification.link_url == f"/reports/statements/{report_id}/download/"
    assert (
        OutboxMessage.objects.filter(user=cast.client1, event="reports.statement_ready", channel="email").count() == 1
    )
    # Nobody asked for it, so no broker is told; the client of another broker hears nothing.
    assert not Notification.objects.filter(event="reports.ready").exists()
    assert not Notification.objects.filter(user=cast.client3).exists()


def test_a_statement_a_broker_asked_for_tells_the_broker_and_the_client(cast, workspace, rendered):
    rendered(cast.broker1, kind=Report.Kind.COSTS, client_id=workspace.anna.pk)
    assert Notification.objects.filter(user=cast.broker1, event="reports.ready").count() == 1
    told = Notification.objects.get(user=cast.client1, event="reports.statement_ready")
    assert told.title == "New costs and charges statement"


def test_a_client_without_a_login_is_not_told(cast, workspace, media):
    (report_id,) = services.statements_issue(
        kind=Report.Kind.STATEMENT, period_start=SEP, period_end=OCT_END, client_ids=[workspace.bert.pk]
    )
    assert rendering.report_render(report_id).status == Report.Status.READY
    assert not Notification.objects.filter(event="reports.statement_ready").exists()


def test_the_schedule_is_in_beat(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["reports-statements"]
    assert entry["task"] == tasks.statements_issue_due.name
