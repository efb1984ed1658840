"""The per-key rate limit: exact under parallel calls, in Redis or in the database, also while Redis is away."""

import logging
import threading

import pytest
from django.db import connection
from django.test import Client

from portal.api import throttling
from portal.api.models import ApiKeyRateWindow
from portal.core.cache import cache_settings

from .conftest import auth, key_for

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"
# 30.25 s into a minute: a "per minute" window started 30.25 s ago and ends in 29.75 s.
NOW = 1_800_000_030.25
WINDOW = 1_800_000_000


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    """Windows follow the clock; a test that ran across a minute boundary would see two of them."""
    monkeypatch.setattr(throttling, "_clock", lambda: NOW)


@pytest.fixture
def without_redis(settings):
    """The embedded default: no Redis at all, whatever this run's REDIS_URL is."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture
def redis_cache(settings, private_redis):
    settings.CACHES = cache_settings(private_redis.url)
    return private_redis


def calls(secret: str, count: int) -> list[int]:
    return [Client().get(ME, **auth(secret)).status_code for _ in range(count)]


def test_over_the_rate_a_key_gets_429_with_retry_after_until_its_window_ends(
    cast, settings, monkeypatch, without_redis
):
    settings.PORTAL_API_KEY_RATE = "3/minute"
    key, secret = key_for(cast.broker1, {"account": "read"})

    assert calls(secret, 3) == [200, 200, 200]
    refused = Client().get(ME, **auth(secret))
    assert refused.status_code == 429 and refused["Retry-After"] == "30"
    assert refused.json()["error"]["code"] == "throttled" and refused.json()["error"]["status"] == 429

    monkeypatch.setattr(throttling, "_clock", lambda: WINDOW + 60.0)
    assert calls(secret, 1) == [200]
    # No Redis in this configuration: the database counted, one row per window.
    assert dict(ApiKeyRateWindow.objects.filter(api_key=key).values_list("window_start", "hits")) == {
        WINDOW: 4,
        WINDOW + 60: 1,
    }


def test_the_rate_is_read_on_every_call(cast, settings):
    settings.PORTAL_API_KEY_RATE = "1/minute"
    _, secret = key_for(cast.broker1, {"account": "read"})
    assert calls(secret, 2) == [200, 429]
    settings.PORTAL_API_KEY_RATE = "5/hour"  # another window length: counted afresh
    assert calls(secret, 6) == [200, 200, 200, 200, 200, 429]


def test_with_redis_the_count_lives_in_redis_and_expires_after_its_window(cast, settings, redis_cache):
    settings.PORTAL_API_KEY_RATE = "3/minute"
    key, secret = key_for(cast.broker1, {"account": "read"})

    assert calls(secret, 4) == [200, 200, 200, 429]

    name = throttling.redis_counter_key(key=key, window_start=WINDOW, window_seconds=60)
    client = redis_cache.client()
    assert int(client.get(name)) == 4
    assert 60 < client.ttl(name) <= 60 + throttling.KEY_GRACE_SECONDS
    assert not ApiKeyRateWindow.objects.exists()


def test_with_redis_stopped_the_database_counter_still_limits(cast, settings, redis_cache, caplog):
    settings.PORTAL_API_KEY_RATE = "3/minute"
    key, secret = key_for(cast.broker1, {"account": "read"})
    assert calls(secret, 1) == [200]
    redis_cache.stop()

    with caplog.at_level(logging.WARNING, logger="portal.api.throttling"):
        assert calls(secret, 4) == [200, 200, 200, 429]

    # Redis counted the first call and the database the next four: in the window of the switch a
    # key can get up to twice its rate, never an unlimited number of calls.
    assert ApiKeyRateWindow.objects.get(api_key=key).hits == 4
    assert [r.message for r in caplog.records if r.name == "portal.api.throttling"] == [
        "Redis unreachable; API key calls counted in the database"
    ]


def test_with_redis_hung_the_database_counter_limits_and_only_one_call_waits(cast, settings, redis_cache, caplog):
    settings.PORTAL_API_KEY_RATE = "3/minute"
    key, secret = key_for(cast.broker1, {"account": "read"})
    redis_cache.pause()

    with caplog.at_level(logging.WARNING, logger="portal.api.throttling"):
        assert calls(secret, 4) == [200, 200, 200, 429]

    assert ApiKeyRateWindow.objects.get(api_key=key).hits == 4
    assert len([r for r in caplog.records if r.message.startswith("Redis unreachable")]) == 1


def test_the_rate_parser_is_drfs():
    assert throttling.rate_parse("120/minute") == (120, 60)
    assert throttling.rate_parse("50/hour") == (50, 3600)


# --- parallel calls on PostgreSQL ---------------------------------------------------------------


def in_parallel(secret: str, *, threads: int, calls_each: int) -> list[int]:
    """`threads` threads (each its own database connection) released at once, each making `calls_each` calls."""
    barrier = threading.Barrier(threads, timeout=30)
    statuses: list = []
    lock = threading.Lock()

    def run():
        try:
            client = Client()
            barrier.wait()
            for _ in range(calls_each):
                status = client.get(ME, **auth(secret)).status_code
                with lock:
                    statuses.append(status)
        except Exception as exc:  # the outcome under test
            with lock:
                statuses.append(repr(exc))
        finally:
            connection.close()

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    return statuses


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("counter", ["database", "redis"])
def test_300_parallel_calls_on_a_fresh_key_with_a_rate_of_50_serve_exactly_50(cast, settings, request, counter):
    request.getfixturevalue("redis_cache" if counter == "redis" else "without_redis")
    settings.PORTAL_API_KEY_RATE = "50/minute"
    key, secret = key_for(cast.broker1, {"account": "read"})

    statuses = in_parallel(secret, threads=20, calls_each=15)

    assert sorted(statuses, key=str) == [200] * 50 + [429] * 250
    assert ApiKeyRateWindow.objects.filter(api_key=key).exists() is (counter == "database")
