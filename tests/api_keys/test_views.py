"""The profile's API keys page: shown once, second factor for every change, owner only."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portal.api import tokens
from portal.api.models import ApiKey

from .conftest import key_for

pytestmark = pytest.mark.django_db

LIST = "/profile/api-keys/"
CREATE = "/profile/api-keys/new/"


def create_form(**overrides):
    return {"name": "ERP", "scope_clients": "read", "scope_account": "", **overrides}


def test_the_url_names_resolve():
    assert reverse("api_keys:key-list") == LIST
    assert reverse("api_keys:key-create") == CREATE


def test_a_broker_creates_a_key_and_sees_it_exactly_once(cast, login_as):
    client = login_as(cast.broker1)
    response = client.post(CREATE, create_form(allowed_ips="10.0.0.0/8"))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    secret = re.search(r'value="(pzk_[a-z0-9]{8}\.[A-Za-z0-9]{40})"', html).group(1)
    key = ApiKey.objects.get(owner=cast.broker1)
    assert tokens.key_matches(secret, key.hashed_key)
    assert key.scopes == {"clients": "read"} and key.allowed_ips == ["10.0.0.0/8"]
    listing = client.get(LIST).content.decode()
    assert key.prefix in listing and secret.split(".")[1] not in listing


def test_the_last_day_of_validity_is_inclusive(cast, login_as):
    last_day = timezone.localdate() + timedelta(days=3)
    login_as(cast.broker1).post(CREATE, create_form(expires_on=last_day.isoformat()))
    key = ApiKey.objects.get(owner=cast.broker1)
    local = timezone.localtime(key.expires_at)
    assert local.date() == last_day + timedelta(days=1) and (local.hour, local.minute) == (0, 0)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (create_form(name=""), "This field is required."),
        (create_form(scope_clients=""), "Choose at least one resource group"),
        (create_form(scope_clients="admin"), "Select a valid choice."),
        (create_form(allowed_ips="10.0.0.300"), "Not an IP address or network: 10.0.0.300."),
        (create_form(expires_on="2001-01-01"), "The last day must not lie in the past."),
        (create_form(expires_on="tomorrow"), "Enter a valid date."),
    ],
)
def test_bad_input_is_shown_with_a_reason_and_creates_nothing(cast, login_as, data, message):
    response = login_as(cast.broker1).post(CREATE, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ApiKey.objects.exists()


def test_without_a_verified_second_factor_nothing_changes(cast, login_as, settings):
    settings.PORTAL_REQUIRE_2FA = False  # so the page itself, not the middleware, has to refuse
    key, _ = key_for(cast.broker1)
    client = login_as(cast.broker1, verified=False)
    page = client.get(LIST)
    assert page.status_code == 200 and 'data-testid="second-factor-needed"' in page.content.decode()
    for url in (CREATE, f"{LIST}{key.pk}/rotate/", f"{LIST}{key.pk}/revoke/"):
        response = client.post(url, {**create_form(), "grace": "0"})
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:2fa-setup"))
    key.refresh_from_db()
    assert ApiKey.objects.count() == 1 and key.revoked_at is None and key.replaced_by is None


def test_rotating_on_the_page_shows_the_new_secret_once(cast, login_as):
    key, old_secret = key_for(cast.broker1)
    response = login_as(cast.broker1).post(f"{LIST}{key.pk}/rotate/", {"grace": "86400"})
    assert response.status_code == 200
    html = response.content.decode()
    new_secret = re.search(r'value="(pzk_[a-z0-9]{8}\.[A-Za-z0-9]{40})"', html).group(1)
    assert new_secret != old_secret and key.prefix in html
    key.refresh_from_db()
    assert key.state() == ApiKey.State.ROTATING


def test_a_bad_grace_period_is_refused(cast, login_as):
    key, _ = key_for(cast.broker1)
    response = login_as(cast.broker1).post(f"{LIST}{key.pk}/rotate/", {"grace": "99999999"}, follow=True)
    assert "Choose what happens to the old key." in response.content.decode()
    key.refresh_from_db()
    assert key.replaced_by is None and ApiKey.objects.count() == 1


def test_revoking_on_the_page(cast, login_as):
    key, _ = key_for(cast.broker1)
    response = login_as(cast.broker1).post(f"{LIST}{key.pk}/revoke/", follow=True)
    assert f"The key {key.prefix} is revoked" in response.content.decode()
    key.refresh_from_db()
    assert key.state() == ApiKey.State.REVOKED


@pytest.mark.parametrize("action", ["rotate", "revoke"])
def test_someone_elses_key_does_not_exist(cast, login_as, action):
    key, _ = key_for(cast.broker1)
    for intruder in (cast.broker2, cast.manager, cast.backoffice):
        assert login_as(intruder).post(f"{LIST}{key.pk}/{action}/", {"grace": "0"}).status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None and key.replaced_by is None


def test_the_list_shows_only_the_users_own_keys(cast, login_as):
    mine, _ = key_for(cast.broker1, name="mine")
    theirs, _ = key_for(cast.broker2, name="theirs")
    html = login_as(cast.broker1).get(LIST).content.decode()
    assert mine.prefix in html and theirs.prefix not in html


@pytest.mark.parametrize("who", ["client1", "outsider"])
def test_roles_without_api_access_get_403(cast, login_as, who):
    assert login_as(getattr(cast, who)).get(LIST).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client, db):
    response = client.get(LIST)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_list_page_runs_the_same_queries_for_few_and_many_keys(cast, login_as):
    client = login_as(cast.broker1)
    key_for(cast.broker1, name="one")
    client.get(LIST)
    with CaptureQueriesContext(connection) as few:
        assert client.get(LIST).status_code == 200
    for n in range(15):
        key_for(cast.broker1, name=f"k{n}")
    client.get(LIST)  # as before "few": the header's unread count is cached again (new keys notified)
    with CaptureQueriesContext(connection) as many:
        assert client.get(LIST).status_code == 200
    assert len(many) == len(few)
