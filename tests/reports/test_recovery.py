"""Renders whose worker died: the sweep queues them again, a repeated request does too, attempts are bounded."""

from datetime import timedelta

import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerOperationalError

from portal.audit.models import AuditEvent
from portal.notifications.models import Notification
from reports import rendering, services, tasks
from reports.models import Report

from .conftest import OCT_END, SEP

pytestmark = pytest.mark.django_db

Status = Report.Status


@pytest.fixture
def published(monkeypatch):
    """The report ids handed to the broker (instead of rendering them eagerly)."""
    sent = []
    monkeypatch.setattr(tasks.report_render, "delay", lambda report_id: sent.append(report_id))
    return sent


@pytest.fixture
def stuck_after(settings):
    settings.REPORTS_STUCK_SECONDS = 300
    settings.REPORTS_RENDER_MAX_ATTEMPTS = 3
    return timedelta(seconds=300)


def request(cast, workspace, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return services.report_request(
            actor=cast.broker1,
            kind=Report.Kind.STATEMENT,
            client_id=workspace.anna.pk,
            period_start=SEP,
            period_end=OCT_END,
        )


def running(report: Report, *, silent_for: timedelta, attempts: int = 1) -> Report:
    """As a worker leaves the report when it is killed after `silent_for` without a heartbeat."""
    last = timezone.now() - silent_for
    Report.objects.filter(pk=report.pk).update(
        status=Status.RUNNING, started_at=last, heartbeat_at=last, progress=40, attempts=attempts
    )
    return Report.objects.get(pk=report.pk)


def sweep(django_capture_on_commit_callbacks) -> dict[str, int]:
    with django_capture_on_commit_callbacks(execute=True):
        return tasks.reports_sweep.apply().result


def test_the_sweep_queues_again_a_render_whose_heartbeat_stopped(
    cast, workspace, stuck_after, published, django_capture_on_commit_callbacks
):
    report = running(
        request(cast, workspace, django_capture_on_commit_callbacks), silent_for=stuck_after + timedelta(seconds=5)
    )
    published.clear()

    assert sweep(django_capture_on_commit_callbacks) == {"requeued": 1, "failed": 0}

    report.refresh_from_db()
    assert report.status == Status.QUEUED and report.progress == 0 and report.attempts == 1
    assert published == [report.pk]
    event = AuditEvent.objects.get(action="reports.requeued", object_id=str(report.pk))
    assert event.actor_label == "system" and event.changes == {"status": "running", "attempts": 1}


def test_the_sweep_leaves_live_renders_and_finished_reports_alone(
    cast, workspace, stuck_after, published, django_capture_on_commit_callbacks
):
    report = running(
        request(cast, workspace, django_capture_on_commit_callbacks), silent_for=stuck_after - timedelta(seconds=30)
    )
    published.clear()
    assert sweep(django_capture_on_commit_callbacks) == {"requeued": 0, "failed": 0}
    for status in (Status.READY, Status.FAILED):
        Report.objects.filter(pk=report.pk).update(status=status)
        assert sweep(django_capture_on_commit_callbacks) == {"requeued": 0, "failed": 0}
    assert published == []
    assert not AuditEvent.objects.filter(action="reports.requeued").exists()


def test_the_sweep_hands_a_queued_report_that_no_worker_took_to_the_broker_again(
    cast, workspace, stuck_after, published, django_capture_on_commit_callbacks
):
    report = request(cast, workspace, django_capture_on_commit_callbacks)
    assert published == [report.pk]
    assert sweep(django_capture_on_commit_callbacks) == {"requeued": 0, "failed": 0}  # just queued

    long_ago = timezone.now() - stuck_after - timedelta(seconds=1)
    Report.objects.filter(pk=report.pk).update(queued_at=long_ago)
    assert sweep(django_capture_on_commit_callbacks) == {"requeued": 1, "failed": 0}
    assert published == [report.pk, report.pk]
    report.refresh_from_db()
    assert report.status == Status.QUEUED and report.queued_at > long_ago
    # Once handed over again it waits another REPORTS_STUCK_SECONDS before the next try.
    assert sweep(django_capture_on_commit_callbacks) == {"requeued": 0, "failed": 0}


def test_after_the_last_attempt_the_sweep_fails_the_report_with_the_reason(
    cast, workspace, stuck_after, published, django_capture_on_commit_callbacks
):
    report = running(
        request(cast, workspace, django_capture_on_commit_callbacks),
        silent_for=stuck_after * 2,
        attempts=3,
    )
    published.clear()

    assert sweep(django_capture_on_commit_callbacks) == {"requeued": 0, "failed": 1}

    report.refresh_from_db()
    assert report.status == Status.FAILED and report.finished_at is not None
    assert report.error == "Rendering stopped 3 times without finishing; the report was given up."
    assert published == []
    assert AuditEvent.objects.get(action="reports.failed", object_id=str(report.pk)).changes["attempts"] == 3


def test_a_report_out_of_attempts_cannot_be_claimed(
    cast, workspace, stuck_after, published, django_capture_on_commit_callbacks
):
    report = request(cast, workspace, django_capture_on_commit_callbacks)
    Report.objects.filter(pk=report.pk).update(attempts=3)
    assert rendering.report_claim(report.pk) is False
    assert Report.objects.get(pk=report.pk).status == Status.QUEUED


def test_asking_again_for_a_stuck_report_starts_it_again(
    cast, workspace, stuck_after, published, django_capture_on_commit_callbacks
):
    report = running(request(cast, workspace, django_capture_on_commit_callbacks), silent_for=stuck_after * 2)
    published.clear()

    again = request(cast, workspace, django_capture_on_commit_callbacks)

    assert again.pk == report.pk and again.status == Status.QUEUED
    assert published == [report.pk]
    event = AuditEvent.objects.get(action="reports.requeued", object_id=str(report.pk))
    assert event.actor == cast.broker1
    assert Report.objects.count() == 1


def test_asking_again_for_a_live_render_returns_it_without_queueing_it_twice(
    cast, workspace, stuck_after, published, django_capture_on_commit_callbacks
):
    report = running(request(cast, workspace, django_capture_on_commit_callbacks), silent_for=timedelta(seconds=10))
    published.clear()

    again = request(cast, workspace, django_capture_on_commit_callbacks)

    assert again.pk == report.pk and again.status == Status.RUNNING
    assert published == []


def test_asking_again_for_a_stuck_report_out_of_attempts_fails_it_and_makes_a_new_one(
    cast, workspace, stuck_after, published, django_capture_on_commit_callbacks
):
    old = running(request(cast, workspace, django_capture_on_commit_callbacks), silent_for=stuck_after * 2, attempts=3)
    published.clear()

    new = request(cast, workspace, django_capture_on_commit_callbacks)

    assert new.pk != old.pk and new.status == Status.QUEUED and new.attempts == 0
    assert Report.objects.get(pk=old.pk).status == Status.FAILED
    assert published == [new.pk]


def test_a_request_goes_through_when_the_broker_is_away_and_the_sweep_queues_it_later(
    cast, workspace, stuck_after, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_away(report_id):
        raise BrokerOperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.report_render, "delay", broker_away)
    report = request(cast, workspace, django_capture_on_commit_callbacks)
    assert Report.objects.get(pk=report.pk).status == Status.QUEUED


def test_a_slow_render_queued_again_by_the_sweep_still_gives_one_file_and_one_notification(
    cast, workspace, media, stuck_after, published, django_capture_on_commit_callbacks
):
    report = request(cast, workspace, django_capture_on_commit_callbacks)
    # The first worker claims the report, then stops showing signs of life (a very long pause).
    assert rendering.report_claim(report.pk)
    running(report, silent_for=stuck_after * 2)
    assert sweep(django_capture_on_commit_callbacks) == {"requeued": 1, "failed": 0}
    # A second worker renders it from the new message.
    assert rendering.report_render(report.pk).status == Status.READY
    # The first worker wakes up and finishes its own render: nothing is stored or sent twice.
    assert rendering._render_claimed(report.pk).status == Status.READY

    report.refresh_from_db()
    assert report.attempts == 2
    assert [p.name for p in (media / "reports").rglob("*.pdf")] == [report.file.name.rsplit("/", 1)[-1]]
    assert Notification.objects.filter(user=cast.broker1, event="reports.ready").count() == 1
    assert AuditEvent.objects.filter(action="reports.rendered", object_id=str(report.pk)).count() == 1


def test_a_slow_render_that_finishes_while_queued_again_counts_and_the_new_message_is_a_no_op(
    cast, workspace, media, stuck_after, published, django_capture_on_commit_callbacks
):
    report = request(cast, workspace, django_capture_on_commit_callbacks)
    assert rendering.report_claim(report.pk)
    running(report, silent_for=stuck_after * 2)
    assert sweep(django_capture_on_commit_callbacks) == {"requeued": 1, "failed": 0}

    assert rendering._render_claimed(report.pk).status == Status.READY  # the slow worker first
    assert tasks.report_render.apply(args=[report.pk]).result == "taken"

    assert len(list((media / "reports").rglob("*.pdf"))) == 1
    assert Notification.objects.filter(user=cast.broker1, event="reports.ready").count() == 1


def test_the_sweep_runs_every_minute_from_beat(settings):
    from portal.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["reports-sweep"]
    assert entry["task"] in app.tasks and entry["schedule"] == 60.0
