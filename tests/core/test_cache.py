"""The shared cache: Redis first, the database while Redis is down or hung, nothing stale after."""

import time

import pytest
from django.core.cache import caches

from portal.core.cache import TOMBSTONE, cache_settings, cached_until_changed, forget, redis_circuit
from portal.core.models import CacheKeyToForget

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_cache(settings, private_redis):
    settings.CACHES = cache_settings(private_redis.url)
    settings.PORTAL_REDIS_RETRY_SECONDS = 0.5
    return private_redis


def test_it_reads_and_writes_redis_while_redis_answers(redis_cache):
    cache = caches["default"]
    cache.set("k", "v", timeout=60)

    assert cache.get("k") == "v"
    assert caches["redis"].get("k") == "v"
    assert caches["database"].get("k") is None
    assert not CacheKeyToForget.objects.exists()


def test_a_stopped_redis_is_skipped_and_the_database_stands_in(redis_cache):
    cache = caches["default"]
    redis_cache.stop()

    started = time.monotonic()
    cache.set("k", "from-the-outage", timeout=60)
    for _ in range(20):
        assert cache.get("k") == "from-the-outage"
    assert cache.add("lock", True, timeout=10) is True
    assert cache.add("lock", True, timeout=10) is False  # still a real lock, kept in the database
    assert time.monotonic() - started < 0.5

    assert redis_circuit().is_open
    assert set(CacheKeyToForget.objects.values_list("key", flat=True)) == {"k", "lock"}


def test_a_hung_redis_costs_one_timeout_then_nothing(redis_cache):
    cache = caches["default"]
    cache.set("k", "before", timeout=60)
    redis_cache.pause()
    try:
        started = time.monotonic()
        assert cache.get("k") is None  # the first call waits for the socket timeout, then the database answers
        first = time.monotonic() - started
        started = time.monotonic()
        for _ in range(50):
            cache.get("k")
        rest = time.monotonic() - started
    finally:
        redis_cache.resume()
    assert first < 0.6
    assert rest < 0.25  # 50 calls without waiting: the circuit is open


def test_keys_written_during_an_outage_are_forgotten_by_redis_when_it_is_back(redis_cache):
    cache = caches["default"]
    cache.set("session", "signed-in", timeout=60)
    redis_cache.pause()  # hung: Redis keeps its memory, including the old value
    try:
        cache.get("anything")  # times out: this process stops sending to Redis
        cache.delete("session")  # a logout while Redis does not answer
        assert cache.get("session") is None
    finally:
        redis_cache.resume()
    assert caches["redis"].get("session") == "signed-in"  # what Redis still holds

    time.sleep(0.6)  # the retry period
    assert cache.get("session") is None  # Redis was made to forget before it served the read
    assert caches["redis"].get("session") is None
    assert not redis_circuit().is_open
    assert not CacheKeyToForget.objects.exists()


def test_what_the_database_held_during_an_outage_is_not_served_in_the_next_one(redis_cache):
    cache = caches["default"]
    redis_cache.stop()
    cache.set("k", "first outage", timeout=60)
    redis_cache.start()
    time.sleep(0.6)
    cache.set("k", "between outages", timeout=60)  # recovers first: the database's copy goes
    assert caches["database"].get("k") is None

    redis_cache.stop()
    assert cache.get("k") is None  # not "first outage"


def test_a_late_reader_cannot_put_back_what_a_change_forgot():
    cache = caches["default"]

    def stale_read():
        forget(cache, "user:1")  # the change commits while this reader is still computing
        return "role: broker"

    assert cached_until_changed(cache, "user:1", stale_read, timeout=60) == "role: broker"
    assert cache.get("user:1") == TOMBSTONE
    assert cached_until_changed(cache, "user:1", lambda: "role: none", timeout=60) == "role: none"


def test_the_embedded_default_shares_its_cache_between_processes():
    """Without Redis the demo's cache is the database: an import in another shell bumps what pages see."""
    import subprocess
    import sys

    code = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env={
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DEBUG": "true",
            "PATH": "/usr/bin:/bin",
        },
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "django.core.cache.backends.db.DatabaseCache"


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[int(0.95 * (len(ordered) - 1))]


def test_a_hung_redis_adds_under_100_ms_to_the_p95_of_notifying_requests(
    cast, login_as, celery_on_private_redis, private_redis, django_capture_on_commit_callbacks, settings
):
    """Pages that read the cache and send notifications (queued to the broker after the commit)."""
    from django.urls import reverse

    from portal.notifications.models import OutboxMessage
    from portal.notifications.services import notify

    client = login_as(cast.broker1)

    def timed_requests(count: int) -> list[float]:
        samples = []
        for _ in range(count):
            started = time.monotonic()
            with django_capture_on_commit_callbacks(execute=True):
                assert client.get(reverse("notifications:list")).status_code == 200
                notify(user=cast.broker1, event="account.welcome")
            samples.append(time.monotonic() - started)
        return samples

    baseline = _p95(timed_requests(40))
    private_redis.pause()
    try:
        hung = _p95(timed_requests(40))
    finally:
        private_redis.resume()

    assert hung - baseline < 0.1, (baseline, hung)
    # Nothing was lost: every notification waits in the outbox for the sweep.
    assert OutboxMessage.objects.filter(user=cast.broker1, event="account.welcome").count() >= 80
