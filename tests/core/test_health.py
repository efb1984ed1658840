import threading
import time

import pytest
from django.urls import reverse

from portal.shell import health
from tests.fakes.fixtures import wait_until

pytestmark = pytest.mark.django_db

WORDS = {"ok", "eager", "timeout", "error", "stale", "no worker"}


@pytest.fixture(autouse=True)
def _no_check_left_running():
    """A check still hanging when a test ends would answer for the next test's /healthz."""
    yield
    wait_until(lambda: not health.checks_in_flight(), timeout=10, message="health checks finished")


@pytest.fixture
def broker_nowhere(settings):
    """Tasks go to a broker on loopback port 9, where nothing listens: refused at once."""
    from portal.celery import app

    # Celery's config reads Django settings lazily: remember its values before changing either.
    previous = app.conf.broker_url, app.conf.task_always_eager
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.broker_url = "redis://127.0.0.1:9/0"
    app.conf.task_always_eager = False
    yield
    app.conf.broker_url, app.conf.task_always_eager = previous


def test_healthz_reports_ok_when_everything_answers(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["cache"] == "ok"
    # Tests run Celery eagerly unless a worker test says otherwise.
    assert body["checks"]["broker"] == body["checks"]["worker"] == "eager"


def test_healthz_answers_503_when_the_broker_cannot_be_reached(client, broker_nowhere):
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"] == {"database": "ok", "cache": "ok", "broker": "error", "worker": "no worker"}


def test_healthz_answers_503_when_the_cache_fails(client, settings):
    from portal.core.cache import cache_settings

    # Pages go on with the database standing in, but /healthz says that Redis is away.
    settings.CACHES = cache_settings("redis://127.0.0.1:9/0")
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["checks"]["cache"] == "error"


def test_healthz_says_only_fixed_words_and_nothing_about_hosts_or_errors(client, broker_nowhere, caplog):
    response = client.get(reverse("healthz"))
    body = response.json()
    assert set(body) == {"status", "checks"} and set(body["checks"].values()) <= WORDS
    content = response.content.decode()
    for secret in ("127.0.0.1", "redis://", "Connection refused", "Error", "Traceback"):
        assert secret not in content
    # The details are for the operators' log.
    assert "Health check broker failed" in caplog.text


def test_healthz_needs_no_login_and_is_never_cached(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"] and "max-age=0" in response["Cache-Control"]


def test_a_check_that_hangs_is_reported_as_timeout_within_a_second(client, monkeypatch):
    release = threading.Event()
    runs = []

    def hung_database():
        runs.append(1)
        release.wait(10)
        return "ok"

    monkeypatch.setitem(health.CHECKS, "database", hung_database)
    try:
        started = time.monotonic()
        first = client.get(reverse("healthz"))
        second = client.get(reverse("healthz"))
        elapsed = time.monotonic() - started
    finally:
        release.set()
    assert elapsed < 2.0
    assert first.status_code == second.status_code == 503
    assert first.json()["checks"] == {"database": "timeout", "cache": "ok", "broker": "eager", "worker": "eager"}
    assert second.json()["checks"]["database"] == "timeout"
    # The second request waited on the check still running instead of starting another one.
    assert len(runs) == 1
