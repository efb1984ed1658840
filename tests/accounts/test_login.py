"""Password login through allauth's real form, logout, lockout, the audit trail and the allauth pages."""

import pytest
from django.urls import reverse

from portal.accounts.models import User
from portal.audit.models import AuditEvent
from tests.factories import PASSWORD

LOGIN_URL = "/accounts/login/"

pytestmark = pytest.mark.django_db


def test_it_logs_in_with_email_and_password(cast, client):
    response = client.post(LOGIN_URL, {"login": "client1@example.com", "password": PASSWORD})

    assert response.status_code == 302
    assert response.url == reverse("shell:home")
    assert client.session["_auth_user_id"] == str(cast.client1.pk)


def test_it_accepts_the_email_in_any_case(cast, client):
    response = client.post(LOGIN_URL, {"login": "Client1@Example.COM", "password": PASSWORD})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(cast.client1.pk)


def test_it_refuses_a_wrong_password_with_a_clear_message(cast, client):
    response = client.post(LOGIN_URL, {"login": "client1@example.com", "password": "not-the-password"})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert "The email address and/or password you specified are not correct." in response.content.decode()


def test_it_audits_login_and_failed_login(cast, client):
    client.post(LOGIN_URL, {"login": "client1@example.com", "password": "not-the-password"})
    client.post(LOGIN_URL, {"login": "client1@example.com", "password": PASSWORD})

    failed = AuditEvent.objects.get(action="auth.login_failed")
    assert failed.actor is None
    assert failed.object_id == str(cast.client1.pk)
    assert failed.changes == {"login": "client1@example.com"}
    assert failed.ip == "127.0.0.1"
    assert "not-the-password" not in str(failed.changes)
    login = AuditEvent.objects.get(action="auth.login")
    assert login.actor == cast.client1
    assert login.request_id


def test_it_logs_out_and_audits_it(cast, client, login_as):
    login_as(cast.client1)

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="auth.logout", actor=cast.client1).count() == 1


def test_it_locks_an_account_after_five_failed_logins(cast, client):
    for _ in range(5):
        client.post(LOGIN_URL, {"login": "broker1@example.com", "password": "guessing-wrong"})

    response = client.post(LOGIN_URL, {"login": "broker1@example.com", "password": PASSWORD})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert "Too many failed login attempts. Try again later." in response.content.decode()
    assert AuditEvent.objects.filter(action="auth.login_failed", object_id=str(cast.broker1.pk)).count() == 5
    assert not AuditEvent.objects.filter(action="auth.login").exists()


def test_it_does_not_lock_other_accounts(cast, client):
    for _ in range(5):
        client.post(LOGIN_URL, {"login": "broker1@example.com", "password": "guessing-wrong"})

    response = client.post(LOGIN_URL, {"login": "client1@example.com", "password": PASSWORD})

    assert response.status_code == 302


def test_it_renders_the_login_page_in_the_portal_layout(client, db):
    response = client.get(LOGIN_URL)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="navbar-brand"' in html
    assert 'class="form-control' in html
    assert 'name="login"' in html and 'name="password"' in html
    assert reverse("account_reset_password") in html
    assert "sign up" not in html.lower()


def test_it_keeps_signup_closed(client, db):
    response = client.post(
        reverse("account_signup"),
        {"email": "stranger@example.com", "password1": "a-long-passphrase-42", "password2": "a-long-passphrase-42"},
    )

    assert response.status_code == 200
    assert not User.objects.filter(email="stranger@example.com").exists()


def test_it_renders_the_password_reset_request_page(client, db):
    response = client.get(reverse("account_reset_password"))

    assert response.status_code == 200
    assert 'type="email"' in response.content.decode()


@pytest.mark.parametrize("url_name", ["account_logout", "account_change_password", "account_email"])
def test_it_renders_the_account_pages_for_a_verified_user(cast, client, login_as, url_name):
    login_as(cast.broker1)

    response = client.get(reverse(url_name))

    assert response.status_code == 200
    assert 'class="navbar-brand"' in response.content.decode()


@pytest.mark.parametrize("url_name", ["account_change_password", "account_email"])
def test_it_sends_anonymous_visitors_of_account_pages_to_login(client, db, url_name):
    response = client.get(reverse(url_name))

    assert response.status_code == 302
    assert response.url.startswith(LOGIN_URL)


@pytest.mark.parametrize("url_name", ["account_change_password", "account_email"])
def test_it_asks_for_the_code_before_account_pages(cast, client, login_as, url_name):
    login_as(cast.broker1)
    login_as(cast.broker1, verified=False)

    response = client.get(reverse(url_name))

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:2fa-verify"))


def test_it_changes_the_password_through_the_allauth_form(cast, client, login_as):
    login_as(cast.client1)

    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": "a-new-long-passphrase-42", "password2": "a-new-long-passphrase-42"},
    )

    assert response.status_code == 302
    cast.client1.refresh_from_db()
    assert cast.client1.check_password("a-new-long-passphrase-42")
