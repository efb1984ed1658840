import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_healthz_reports_ok_when_everything_answers(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["cache"] == "ok"
    # Tests run Celery eagerly unless a worker test says otherwise.
    assert body["checks"]["worker"] == "eager"


def test_healthz_answers_503_when_the_broker_cannot_be_reached(client, settings):
    from portal.celery import app

    # Celery's config reads Django settings lazily: remember its values before changing either.
    previous = app.conf.broker_url, app.conf.task_always_eager
    settings.CELERY_TASK_ALWAYS_EAGER = False
    # Port 9 on loopback: nothing listens, the connection is refused at once.
    app.conf.broker_url = "redis://127.0.0.1:9/0"
    app.conf.task_always_eager = False
    try:
        response = client.get(reverse("healthz"))
    finally:
        app.conf.broker_url, app.conf.task_always_eager = previous
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("error")
    assert body["checks"]["worker"].startswith("error")


def test_healthz_answers_503_when_the_cache_fails(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["checks"]["cache"].startswith("error")
