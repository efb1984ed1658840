"""/healthz against a private Redis that is stopped or paused, and against real workers' heartbeats.

Every state answers in under a second, with 200 only when everything is well, and names the part
that is not. The data must be committed for the checks' own threads (and the worker) to see it.
"""

import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.core.models import WorkerHeartbeat
from portal.shell import health
from tests.fakes.fixtures import wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _no_check_left_running():
    """A check still hanging when a test ends would answer for the next test's /healthz."""
    yield
    wait_until(lambda: not health.checks_in_flight(), timeout=10, message="health checks finished")


@pytest.fixture
def on_private_redis(celery_on_private_redis, settings):
    """Cache and broker on the private Redis, tasks not eager: as in production."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    return celery_on_private_redis


@pytest.fixture
def worker_alive(on_private_redis):
    """A heartbeat as a live worker writes it (the real worker's own is tested below)."""
    return WorkerHeartbeat.objects.create(name="celery@web-1", seen_at=timezone.now())


def healthz(client):
    started = time.monotonic()
    response = client.get(reverse("healthz"))
    return response, time.monotonic() - started


def test_healthy_with_a_real_worker_and_no_worker_once_it_shut_down(client, real_worker):
    wait_until(lambda: WorkerHeartbeat.objects.exists(), timeout=10, message="the worker's heartbeat")

    response, elapsed = healthz(client)
    assert elapsed < 1.0
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "broker": "ok", "worker": "ok"},
    }
    [beat] = WorkerHeartbeat.objects.all()
    assert beat.name.startswith("test-") and timezone.now() - beat.seen_at < timedelta(seconds=15)

    real_worker.stop()  # a warm shutdown removes the worker's heartbeat
    response, elapsed = healthz(client)
    assert elapsed < 1.0
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "broker": "ok", "worker": "no worker"}


def test_redis_stopped_answers_503_at_once_naming_cache_and_broker(client, private_redis, worker_alive):
    private_redis.stop()

    response, elapsed = healthz(client)

    assert elapsed < 1.0
    assert response.status_code == 503
    # The worker's heartbeat is in the database: it is alive, it only cannot reach the broker.
    assert response.json() == {
        "status": "error",
        "checks": {"database": "ok", "cache": "error", "broker": "error", "worker": "ok"},
    }
    assert str(private_redis.port) not in response.content.decode()


def test_redis_paused_answers_503_within_a_second_with_cache_and_broker_timed_out(client, private_redis, worker_alive):
    private_redis.pause()
    try:
        response, elapsed = healthz(client)
        again, elapsed_again = healthz(client)
    finally:
        private_redis.resume()

    assert elapsed < 1.0 and elapsed_again < 1.0
    assert response.status_code == again.status_code == 503
    expected = {"database": "ok", "cache": "timeout", "broker": "timeout", "worker": "ok"}
    assert response.json()["checks"] == again.json()["checks"] == expected


def test_no_worker_answers_503_naming_the_worker(client, on_private_redis):
    response, elapsed = healthz(client)
    assert elapsed < 1.0
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "broker": "ok", "worker": "no worker"}


def test_a_stale_worker_heartbeat_answers_503_naming_the_worker(client, on_private_redis, settings):
    settings.PORTAL_WORKER_STALE_SECONDS = 60
    WorkerHeartbeat.objects.create(name="celery@killed", seen_at=timezone.now() - timedelta(seconds=61))

    response, elapsed = healthz(client)

    assert elapsed < 1.0
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "broker": "ok", "worker": "stale"}


def test_one_fresh_heartbeat_among_stale_ones_is_enough(client, on_private_redis):
    WorkerHeartbeat.objects.create(name="celery@killed", seen_at=timezone.now() - timedelta(hours=2))
    WorkerHeartbeat.objects.create(name="celery@alive", seen_at=timezone.now())

    response, elapsed = healthz(client)

    assert elapsed < 1.0
    assert response.status_code == 200
