"""The signed-in user and the session come from the cache, and every revocation still counts at once."""

import pytest
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.accounts.roles import Role
from portal.audit.models import AuditEvent
from portal.core.cache import cache_settings
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("intermediaries:dashboard")


@pytest.fixture(params=["local", "redis"])
def caches_under_test(request, settings, tmp_path):
    """Each test runs with the per-process cache and with Redis + the database fallback."""
    if request.param == "redis":
        server = request.getfixturevalue("private_redis")
        settings.CACHES = cache_settings(server.url)
        settings.PORTAL_REDIS_RETRY_SECONDS = 0.5
        return server
    return None


def test_a_warm_request_needs_no_query_for_session_user_roles_or_devices(
    cast, client, login_as, django_assert_num_queries, caches_under_test
):
    from django.core.cache import cache

    from portal.accounts.backends import signed_in_key

    login_as(cast.broker1)
    cache.delete(signed_in_key(cast.broker1.pk))  # the login's own change tombstoned it for a few seconds
    client.get(reverse("shell:home"))  # warms the session and the signed-in user

    with django_assert_num_queries(0):
        response = client.get(reverse("shell:home"))
    assert response.status_code == 302


def test_a_removed_role_takes_effect_on_the_next_request(cast, client, login_as, caches_under_test):
    login_as(cast.broker1)
    assert client.get(DASHBOARD).status_code == 200

    cast.broker1.groups.remove(Group.objects.get(name=Role.INTERMEDIARY))

    assert client.get(DASHBOARD).status_code == 403


def test_a_deactivated_user_is_signed_out_on_the_next_request(cast, client, login_as, caches_under_test):
    login_as(cast.broker1)
    assert client.get(DASHBOARD).status_code == 200

    cast.broker1.is_active = False
    cast.broker1.save(update_fields=["is_active"])

    response = client.get(DASHBOARD)
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_a_deleted_device_unverifies_the_session_on_the_next_request(cast, client, login_as, caches_under_test):
    login_as(cast.broker1)
    assert client.get(DASHBOARD).status_code == 200

    TOTPDevice.objects.filter(user=cast.broker1).delete()

    response = client.get(DASHBOARD)
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:2fa-setup"))


def test_an_ended_session_is_not_accepted_on_the_next_request(cast, client, login_as, caches_under_test):
    from importlib import import_module

    from django.conf import settings

    login_as(cast.broker1)
    assert client.get(DASHBOARD).status_code == 200
    key = client.cookies[settings.SESSION_COOKIE_NAME].value

    import_module(settings.SESSION_ENGINE).SessionStore(key).delete()  # "sign out everywhere"

    assert not Session.objects.filter(session_key=key).exists()
    response = client.get(DASHBOARD)
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_a_changed_password_ends_other_sessions(cast, client, login_as, caches_under_test):
    login_as(cast.broker1)
    assert client.get(DASHBOARD).status_code == 200

    cast.broker1.set_password("another-password-1234")
    cast.broker1.save()

    assert client.get(DASHBOARD).status_code == 302


def test_login_works_and_still_locks_out_while_redis_is_down(cast, client, settings, private_redis):
    settings.CACHES = cache_settings(private_redis.url)
    private_redis.stop()

    response = client.post("/accounts/login/", {"login": "client1@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(cast.client1.pk)
    client.post("/accounts/logout/")

    for _ in range(5):
        response = client.post("/accounts/login/", {"login": "client2@example.com", "password": "wrong-password"})
        assert response.status_code == 200
    response = client.post("/accounts/login/", {"login": "client2@example.com", "password": PASSWORD})
    assert response.status_code == 200  # locked out: the counter lives in the database meanwhile
    assert "Too many failed login attempts" in response.content.decode()
    assert AuditEvent.objects.filter(action="auth.login_locked").exists()


def test_login_works_while_redis_hangs(cast, client, settings, private_redis):
    import time

    settings.CACHES = cache_settings(private_redis.url)
    private_redis.pause()
    try:
        started = time.monotonic()
        response = client.post("/accounts/login/", {"login": "client1@example.com", "password": PASSWORD})
        elapsed = time.monotonic() - started
    finally:
        private_redis.resume()
    assert response.status_code == 302
    assert elapsed < 1.5


def test_a_warm_request_reads_the_session_and_the_signed_in_user_in_one_round_trip(
    cast, client, login_as, monkeypatch, settings, private_redis
):
    from django.core.cache import caches

    from portal.accounts.backends import signed_in_key

    settings.CACHES = cache_settings(private_redis.url)
    cache = caches["default"]
    login_as(cast.broker1)
    cache.delete(signed_in_key(cast.broker1.pk))
    client.get(reverse("shell:home"))  # warms both entries and tells this process whose session it is
    reads = []
    for method in ("get", "get_many"):
        real = getattr(cache, method)
        monkeypatch.setattr(
            cache, method, lambda *a, _real=real, _name=method, **k: reads.append(_name) or _real(*a, **k)
        )

    assert client.get(reverse("shell:home")).status_code == 302

    assert reads == ["get_many"]  # one MGET of the session and the signed-in user
