"""Pytest fixtures around the loopback fakes; import them into a conftest with
`from tests.fakes.fixtures import *` (or list this module in `pytest_plugins` at the root).
"""

import time

import kombu.pools
import pytest

from portal.core.cache import cache_settings

from .redis import PrivateRedis
from .shippo import FakeShippo
from .smtp import FakeSMTP
from .twilio import FakeTwilio
from .worker import CeleryWorker, database_url

__all__ = [
    "celery_on_private_redis",
    "fake_shippo",
    "fake_smtp",
    "fake_twilio",
    "private_redis",
    "real_worker",
    "shippo_settings",
    "smtp_settings",
    "twilio_settings",
    "wait_until",
    "worker_env",
]

TWILIO_FROM = "+4930123456789"


def wait_until(predicate, *, timeout: float = 30, interval: float = 0.1, message: str = "condition"):
    """Poll `predicate` until it returns something true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} not reached within {timeout}s")
        time.sleep(interval)


@pytest.fixture
def fake_smtp():
    server = FakeSMTP().start()
    yield server
    server.stop()


@pytest.fixture
def fake_twilio():
    server = FakeTwilio().start()
    yield server
    server.stop()


@pytest.fixture
def fake_shippo():
    server = FakeShippo(hmac_secret="shippo-hmac-" + "0" * 20).start()
    yield server
    server.stop()


@pytest.fixture
def shippo_settings(settings, fake_shippo):
    """Track parcels in this process with the official shippo client against the loopback fake."""
    settings.SHIPPO_API_KEY = fake_shippo.api_key
    settings.SHIPPO_API_URL = fake_shippo.base_url
    settings.SHIPPO_TIMEOUT = 1.0
    return fake_shippo


@pytest.fixture
def smtp_settings(settings, fake_smtp):
    """Send e-mail in this process over real SMTP to the loopback server."""
    settings.PORTAL_EMAIL_TRANSPORT = "smtp"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = fake_smtp.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 2
    return fake_smtp


@pytest.fixture
def twilio_settings(settings, fake_twilio):
    """Send SMS in this process with the real twilio client to the loopback fake."""
    settings.PORTAL_SMS_TRANSPORT = "twilio"
    settings.TWILIO_ACCOUNT_SID = fake_twilio.account_sid
    settings.TWILIO_AUTH_TOKEN = fake_twilio.auth_token
    settings.TWILIO_FROM_NUMBER = TWILIO_FROM
    settings.TWILIO_API_BASE = fake_twilio.base_url
    settings.TWILIO_TIMEOUT = 1.0
    return fake_twilio


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path / "redis").start()
    yield server
    server.stop()


@pytest.fixture
def celery_on_private_redis(private_redis, settings):
    """Make this process publish tasks to the private Redis for real (not eagerly).

    The cache moves there too: as in production, the worker and the web process share one Redis,
    so what a task forgets (a user's unread count, say) the pages stop showing.
    """
    from portal.celery import app

    settings.CACHES = cache_settings(private_redis.url)

    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}

    def reset_pools():
        if app._pool is not None:
            app._pool.force_close_all()
        app._pool = None
        app.amqp._producer_pool = None
        # kombu keeps the closed pools registered process-wide; a later eager task (Celery takes a
        # producer even then) would get "Acquire on closed pool".
        kombu.pools.reset()

    app.conf.update(broker_url=private_redis.url, task_always_eager=False)
    reset_pools()
    yield app
    reset_pools()
    app.conf.update(saved)


def worker_env(private_redis, fake_smtp, fake_twilio) -> dict[str, str]:
    """The environment of a worker subprocess: the private Redis, this test's database, the loopback fakes."""
    from django.db import connection

    return {
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "false",
        "PORTAL_ALLOW_DEV_SECRET": "true",
        "REDIS_URL": private_redis.url,
        "DATABASE_URL": database_url(connection.settings_dict),
        "CONN_MAX_AGE": "0",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "EMAIL_URL": fake_smtp.url,
        "TWILIO_ACCOUNT_SID": fake_twilio.account_sid,
        "TWILIO_AUTH_TOKEN": fake_twilio.auth_token,
        "TWILIO_FROM_NUMBER": TWILIO_FROM,
        "TWILIO_API_BASE": fake_twilio.base_url,
        "TWILIO_TIMEOUT": "2",
    }


@pytest.fixture
def real_worker(transactional_db, tmp_path, private_redis, celery_on_private_redis, fake_smtp, fake_twilio):
    """A real `celery worker` subprocess on the private Redis, sending to the loopback fakes."""
    worker = CeleryWorker(
        env=worker_env(private_redis, fake_smtp, fake_twilio),
        logfile=tmp_path / "worker.log",
    ).start()
    yield worker
    worker.stop()
