"""`Authorization: Api-Key <key>` on the API: who the key is, what it may reach, and when it stops."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import get_resolver
from django.utils import timezone

from portal.accounts.roles import Role
from portal.api import services
from portal.api.models import ApiKey
from portal.api.scopes import view_scope_group

from .conftest import auth, key_for

pytestmark = pytest.mark.django_db

CLIENTS = "/api/v1/clients/"
ME = "/api/v1/me/"


def test_a_key_lists_exactly_its_owners_clients(cast, workspace, api_client):
    _, secret = key_for(cast.broker1)
    response = api_client.get(CLIENTS, **auth(secret))
    assert response.status_code == 200
    assert {c["number"] for c in response.json()["results"]} == {"C1001", "C1002"}


def test_a_key_acts_with_its_owners_permissions_and_no_more(cast, workspace, api_client):
    _, secret = key_for(cast.broker1)
    assert api_client.get(f"{CLIENTS}{workspace.dora.pk}/", **auth(secret)).status_code == 404
    assert api_client.get(f"{CLIENTS}{workspace.carla.pk}/", **auth(secret)).status_code == 404
    assert api_client.get(f"{CLIENTS}{workspace.anna.pk}/", **auth(secret)).status_code == 200


def test_without_credentials_the_api_answers_401_and_names_the_scheme(api_client, db):
    response = api_client.get(CLIENTS)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Api-Key")
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize(
    "header",
    [
        "Api-Key",
        "Api-Key a b",
        "Api-Key pzk_00000000.short",
        "Api-Key pzk_0000000.0123456789012345678901234567890123456789",
    ],
)
def test_a_malformed_or_unknown_key_is_401(header, api_client, db):
    response = api_client.get(CLIENTS, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_a_right_prefix_with_a_wrong_secret_is_401(cast, workspace, api_client):
    key, secret = key_for(cast.broker1)
    forged = f"{key.prefix}.{'A' * 40}"
    assert api_client.get(CLIENTS, **auth(forged)).status_code == 401
    assert api_client.get(CLIENTS, **auth(secret)).status_code == 200


def test_the_key_works_only_in_the_header_never_in_the_url(cast, workspace, api_client):
    _, secret = key_for(cast.broker1)
    for param in ("api_key", "key", "token", "Authorization"):
        assert api_client.get(CLIENTS, {param: secret}).status_code == 401
    assert api_client.get(CLIENTS, HTTP_X_API_KEY=secret).status_code == 401


def test_a_revoked_key_is_refused_on_the_very_next_call(cast, workspace, api_client):
    key, secret = key_for(cast.broker1)
    assert api_client.get(CLIENTS, **auth(secret)).status_code == 200
    services.api_key_revoke(actor=cast.broker1, second_factor_verified=True, key_id=key.pk)
    response = api_client.get(CLIENTS, **auth(secret))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_an_expired_key_is_refused(cast, workspace, api_client):
    key, secret = key_for(cast.broker1, expires_at=timezone.now() + timedelta(minutes=5))
    assert api_client.get(CLIENTS, **auth(secret)).status_code == 200
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api_client.get(CLIENTS, **auth(secret)).status_code == 401


def test_rotation_without_grace_stops_the_old_secret_and_starts_the_new_one(cast, workspace, api_client):
    key, old_secret = key_for(cast.broker1)
    _, new_secret = services.api_key_rotate(
        actor=cast.broker1, second_factor_verified=True, key_id=key.pk, grace=timedelta(0)
    )
    assert api_client.get(CLIENTS, **auth(old_secret)).status_code == 401
    assert api_client.get(CLIENTS, **auth(new_secret)).status_code == 200


def test_rotation_with_grace_keeps_both_secrets_until_the_grace_ends(cast, workspace, api_client):
    key, old_secret = key_for(cast.broker1)
    _, new_secret = services.api_key_rotate(
        actor=cast.broker1, second_factor_verified=True, key_id=key.pk, grace=timedelta(hours=24)
    )
    assert api_client.get(CLIENTS, **auth(old_secret)).status_code == 200
    assert api_client.get(CLIENTS, **auth(new_secret)).status_code == 200
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api_client.get(CLIENTS, **auth(old_secret)).status_code == 401
    assert api_client.get(CLIENTS, **auth(new_secret)).status_code == 200


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_a_read_only_key_gets_403_on_every_unsafe_method(cast, workspace, api_client, method):
    _, secret = key_for(cast.broker1, {"clients": "read", "account": "read"})
    for url in (CLIENTS, f"{CLIENTS}{workspace.anna.pk}/", ME):
        response = getattr(api_client, method)(url, data={}, content_type="application/json", **auth(secret))
        assert response.status_code == 403, url
        assert response.json()["error"]["code"] == "scope_denied"


def test_a_read_write_key_passes_the_scope_and_meets_the_views_own_rules(cast, workspace, api_client):
    _, secret = key_for(cast.broker1, {"clients": "write"})
    # The broker API has no writes: past the key's scope, the view itself says no.
    assert api_client.post(CLIENTS, data={}, content_type="application/json", **auth(secret)).status_code == 405


def test_a_key_reaches_only_its_resource_groups(cast, workspace, api_client):
    _, secret = key_for(cast.broker1, {"account": "read"})
    assert api_client.get(ME, **auth(secret)).status_code == 200
    response = api_client.get(CLIENTS, **auth(secret))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "scope_denied"


def test_me_says_a_key_is_not_a_second_factor(cast, api_client):
    _, secret = key_for(cast.broker1, {"account": "read"})
    body = api_client.get(ME, **auth(secret)).json()
    assert body["email"] == cast.broker1.email and body["second_factor_verified"] is False


def test_a_key_follows_its_owner_losing_a_role_or_the_account(cast, workspace, api_client):
    _, secret = key_for(cast.broker1)
    cast.broker1.groups.remove(*cast.broker1.groups.filter(name=Role.INTERMEDIARY))
    assert api_client.get(CLIENTS, **auth(secret)).status_code == 403
    type(cast.broker1).objects.filter(pk=cast.broker1.pk).update(is_active=False)
    assert api_client.get(CLIENTS, **auth(secret)).status_code == 401


def test_allowed_addresses_are_enforced(cast, workspace, api_client):
    _, office_only = key_for(cast.broker1, allowed_ips="10.1.0.0/16")
    _, local = key_for(cast.broker1, name="local", allowed_ips="127.0.0.1")
    assert api_client.get(CLIENTS, **auth(office_only)).status_code == 401
    assert api_client.get(CLIENTS, REMOTE_ADDR="10.1.2.3", **auth(office_only)).status_code == 200
    assert api_client.get(CLIENTS, **auth(local)).status_code == 200


def test_last_use_is_recorded(cast, workspace, api_client):
    key, secret = key_for(cast.broker1)
    api_client.get(CLIENTS, **auth(secret))
    key.refresh_from_db()
    assert key.last_used_at is not None and key.last_used_ip == "127.0.0.1"


def test_each_key_is_throttled_on_its_own(cast, workspace, api_client, settings):
    settings.PORTAL_API_KEY_RATE = "3/minute"
    cache.clear()
    _, first = key_for(cast.broker1, name="first")
    _, second = key_for(cast.broker1, name="second")
    assert [api_client.get(CLIENTS, **auth(first)).status_code for _ in range(3)] == [200] * 3
    response = api_client.get(CLIENTS, **auth(first))
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert int(response["Retry-After"]) > 0
    assert api_client.get(CLIENTS, **auth(second)).status_code == 200


def test_sessions_are_not_counted_against_a_key_rate(cast, workspace, login_as, settings):
    settings.PORTAL_API_KEY_RATE = "1/minute"
    client = login_as(cast.broker1)
    assert [client.get(CLIENTS).status_code for _ in range(3)] == [200] * 3


def _api_views(patterns=None, prefix=""):
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(pattern.pattern)
        if hasattr(pattern, "url_patterns"):
            yield from _api_views(pattern.url_patterns, route)
        elif route.startswith("api/v1/"):
            yield route, getattr(pattern.callback, "cls", None)


def test_every_api_endpoint_names_the_resource_group_a_key_needs():
    views = list(_api_views())
    assert views, "no API views found"
    missing = [route for route, view in views if view is None or view_scope_group(view) is None]
    assert missing == [], f"endpoints a key cannot reach (name an api_key_scope): {missing}"


def test_an_endpoint_without_a_group_is_closed_to_keys(cast, rf):
    from rest_framework.response import Response
    from rest_framework.views import APIView

    class Unscoped(APIView):
        def get(self, request):
            return Response({"ok": True})

    _, secret = key_for(cast.broker1, {"account": "write", "clients": "write"})
    response = Unscoped.as_view()(rf.get("/api/v1/unscoped/", HTTP_AUTHORIZATION=f"Api-Key {secret}"))
    assert response.status_code == 403


def test_any_valid_key_may_read_the_openapi_schema_but_a_bad_one_may_not(cast, api_client):
    _, secret = key_for(cast.broker1, {"account": "read"})
    assert api_client.get("/api/schema/", **auth(secret)).status_code == 200
    assert api_client.get("/api/schema/", HTTP_AUTHORIZATION="Api-Key nonsense").status_code == 401
    assert api_client.get("/api/schema/").status_code == 200
