"""A worker killed (SIGKILL) in the middle of a render: the sweep queues the report again and a new
worker finishes it, once. Real Celery workers on a private Redis, real PDF rendering.

The first worker loads `tests/reports/slow_render.py`, which pauses every render after its claim;
acks_late keeps the killed worker's message unacknowledged in Redis for the broker's visibility
timeout (an hour), which is what left such reports "running" before the sweep.
"""

import re

import pytest
from django.utils import timezone

from portal.audit.models import AuditEvent
from portal.notifications.models import Notification
from reports import rendering, services, tasks
from reports.models import Report
from tests.fakes.fixtures import wait_until, worker_env
from tests.fakes.worker import CeleryWorker

from .conftest import OCT_END, SEP

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

STUCK_SECONDS = 2


def waited(predicate, timeout: float, message: str, worker: CeleryWorker) -> None:
    """wait_until, and on failure the end of the worker's log, which says why."""
    try:
        wait_until(predicate, timeout=timeout, message=message)
    except AssertionError as late:
        raise AssertionError(f"{late}\n--- {worker.logfile.name} ---\n{worker.log()[-4000:]}") from None


@pytest.fixture
def start_worker(transactional_db, tmp_path, private_redis, celery_on_private_redis, fake_smtp, fake_twilio, settings):
    """`start_worker(name, include="")` starts a real worker storing reports under this test's MEDIA_ROOT."""
    media = tmp_path / "media"
    settings.MEDIA_ROOT = media
    settings.REPORTS_STUCK_SECONDS = STUCK_SECONDS
    workers = []

    def start(name: str, include: str = "") -> CeleryWorker:
        env = {
            **worker_env(private_redis, fake_smtp, fake_twilio),
            "MEDIA_ROOT": str(media),
            "REPORTS_STUCK_SECONDS": str(STUCK_SECONDS),
        }
        worker = CeleryWorker(env=env, logfile=tmp_path / f"{name}.log", include=include).start(timeout=60)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


def test_a_render_whose_worker_is_killed_is_finished_by_another_worker_after_the_sweep(
    cast, workspace, start_worker, settings
):
    doomed = start_worker("doomed", include="tests.reports.slow_render")
    report = services.report_request(
        actor=cast.broker1,
        kind=Report.Kind.STATEMENT,
        client_id=workspace.anna.pk,
        period_start=SEP,
        period_end=OCT_END,
    )
    waited(lambda: "slow_render: pausing" in doomed.log(), 90, "the render under way", doomed)
    report.refresh_from_db()
    assert report.status == Report.Status.RUNNING and report.attempts == 1

    doomed.kill()
    rescuer = start_worker("rescuer")
    # Nothing happens by itself: the killed worker's message waits out the visibility timeout.
    wait_until(
        lambda: Report.objects.filter(rendering.stuck_q(timezone.now()), pk=report.pk).exists(),
        timeout=STUCK_SECONDS + 5,
        message="the report counting as stuck",
    )
    assert Report.objects.get(pk=report.pk).status == Report.Status.RUNNING

    tasks.reports_sweep.delay()  # as beat sends it every minute

    waited(lambda: Report.objects.get(pk=report.pk).status == Report.Status.READY, 120, "report ready", rescuer)
    report.refresh_from_db()
    assert report.attempts == 2 and report.progress == 100
    assert [p.name for p in (settings.MEDIA_ROOT / "reports").rglob("*.pdf")] == [report.file.name.rsplit("/", 1)[-1]]
    assert Notification.objects.filter(user=cast.broker1, event="reports.ready").count() == 1
    assert AuditEvent.objects.filter(action="reports.requeued", object_id=str(report.pk)).count() == 1
    assert AuditEvent.objects.filter(action="reports.rendered", object_id=str(report.pk)).count() == 1
    assert "report_render" not in doomed.log().split("slow_render: pausing", 1)[1]
    assert re.search(r"Task reports\.tasks\.report_render\[[^]]+\] succeeded in [^:]+: 'ready'", rescuer.log())
