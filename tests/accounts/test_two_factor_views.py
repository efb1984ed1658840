"""The second factor seen from the browser: enrolment, the login step, recovery codes, turning it off."""

import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.accounts import two_factor
from portal.audit.models import AuditEvent
from tests.conftest import otp_device_for
from tests.factories import PASSWORD

from .conftest import totp_code, wrong_totp_code

pytestmark = pytest.mark.django_db

SETUP = reverse("accounts:2fa-setup")
VERIFY = reverse("accounts:2fa-verify")
SECURITY = reverse("accounts:security")
CODE_PATTERN = re.compile(r"<li>([a-z2-9]{5}-[a-z2-9]{5})</li>")


def is_verified(client) -> bool:
    """Whether the session has passed the second factor: a page that needs it answers without a detour."""
    response = client.get(SECURITY)
    return response.status_code == 200


# --- enrolment --------------------------------------------------------------------------


def test_it_enrols_a_broker_end_to_end(cast, client, login_as):
    login_as(cast.broker1, verified=False)

    start = client.get("/")
    assert start.status_code == 302
    assert start.url == f"{SETUP}?next=%2F"

    page = client.get(start.url)
    html = page.content.decode()
    device = TOTPDevice.objects.get(user=cast.broker1, confirmed=False)
    assert page.status_code == 200
    assert page["Cache-Control"].startswith("max-age=0")
    assert re.search(r'data-testid="totp-qr">\s*<svg', html)
    assert "<img" not in html
    assert two_factor.totp_secret_display(device) in html

    confirm = client.post(SETUP, {"token": totp_code(device), "next": "/"})

    codes = CODE_PATTERN.findall(confirm.content.decode())
    assert confirm.status_code == 200
    assert len(set(codes)) == 10
    assert 'href="/"' in confirm.content.decode()
    device.refresh_from_db()
    assert device.confirmed
    assert StaticToken.objects.filter(device__user=cast.broker1).count() == 10
    assert is_verified(client)
    assert not CODE_PATTERN.search(client.get(SECURITY).content.decode())
    enrolled = AuditEvent.objects.get(action="auth.2fa_enrolled", actor=cast.broker1)
    assert enrolled.changes["recovery_codes"] == 10
    assert not any(code in json.dumps(enrolled.changes) for code in codes)


def test_it_shows_the_same_secret_when_the_setup_page_is_reloaded(cast, client, login_as):
    login_as(cast.broker1, verified=False)

    client.get(SETUP)
    client.get(SETUP)

    assert TOTPDevice.objects.filter(user=cast.broker1).count() == 1


def test_it_refuses_a_wrong_code_at_enrolment(cast, client, login_as):
    login_as(cast.broker1, verified=False)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=cast.broker1)

    response = client.post(SETUP, {"token": wrong_totp_code(device)})

    assert response.status_code == 200
    assert "This code is not valid." in response.content.decode()
    assert re.search(r'data-testid="totp-qr">\s*<svg', response.content.decode())
    device.refresh_from_db()
    assert not device.confirmed
    assert not StaticToken.objects.filter(device__user=cast.broker1).exists()
    failed = AuditEvent.objects.get(action="auth.2fa_failed", actor=cast.broker1)
    assert failed.changes == {"stage": "setup", "method": "totp", "reason": "wrong_code"}


def test_it_rejects_a_code_that_is_not_six_digits(cast, client, login_as):
    login_as(cast.broker1, verified=False)
    client.get(SETUP)

    response = client.post(SETUP, {"token": "12ab"})

    assert "Enter the 6 digits shown in your authenticator app." in response.content.decode()
    assert not AuditEvent.objects.filter(action="auth.2fa_failed").exists()


def test_it_sends_an_unverified_user_with_a_device_from_setup_to_verify(cast, client, login_as):
    otp_device_for(cast.broker1)
    login_as(cast.broker1, verified=False)

    response = client.get(SETUP)

    assert response.status_code == 302
    assert response.url.startswith(VERIFY)
    assert not TOTPDevice.objects.filter(user=cast.broker1, confirmed=False).exists()


def test_it_replaces_the_authenticator_of_a_verified_user(cast, client, login_as):
    old = otp_device_for(cast.broker1)
    login_as(cast.broker1)
    client.get(SETUP)
    new = TOTPDevice.objects.get(user=cast.broker1, confirmed=False)

    response = client.post(SETUP, {"token": totp_code(new)})

    assert response.status_code == 200
    assert list(TOTPDevice.objects.filter(user=cast.broker1)) == [new]
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()
    assert is_verified(client)


def test_it_ignores_a_foreign_next_after_enrolment(cast, client, login_as):
    login_as(cast.broker1, verified=False)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=cast.broker1)

    response = client.post(SETUP, {"token": totp_code(device), "next": "https://evil.example/"})

    assert "evil.example" not in response.content.decode()
    assert f'href="{SECURITY}"' in response.content.decode()


# --- the login step ---------------------------------------------------------------------


def test_it_asks_for_the_code_after_the_password(cast, client):
    device = otp_device_for(cast.broker1)

    login = client.post("/accounts/login/", {"login": "broker1@example.com", "password": PASSWORD})
    home = client.get(login.url)
    assert home.status_code == 302
    assert home.url == f"{VERIFY}?next=%2F"
    assert client.get(home.url).status_code == 200

    verify = client.post(VERIFY, {"token": totp_code(device), "next": "/"})

    assert verify.status_code == 302
    assert verify.url == "/"
    assert is_verified(client)
    event = AuditEvent.objects.get(action="auth.2fa_verified", actor=cast.broker1)
    assert event.changes == {"method": "totp"}


def test_it_renews_the_session_key_when_the_code_is_accepted(cast, client, login_as):
    device = otp_device_for(cast.broker1)
    login_as(cast.broker1, verified=False)
    before = client.session.session_key

    client.post(VERIFY, {"token": totp_code(device)})

    assert client.session.session_key != before


def test_it_refuses_a_wrong_code_and_audits_it(cast, client, login_as):
    device = otp_device_for(cast.broker1)
    login_as(cast.broker1, verified=False)
    code = wrong_totp_code(device)

    response = client.post(VERIFY, {"token": code, "next": "/"})

    assert response.status_code == 200
    assert "This code is not valid." in response.content.decode()
    assert not is_verified(client)
    failed = AuditEvent.objects.get(action="auth.2fa_failed", actor=cast.broker1)
    assert failed.changes == {"stage": "login", "method": "totp", "reason": "wrong_code"}
    assert code not in json.dumps(failed.changes)


def test_it_makes_the_user_wait_after_repeated_failures(cast, client, login_as):
    device = otp_device_for(cast.broker1)
    device.throttling_failure_count = 5
    device.throttling_failure_timestamp = timezone.now()
    device.save()
    login_as(cast.broker1, verified=False)

    response = client.post(VERIFY, {"token": totp_code(device)})

    assert response.status_code == 200
    assert re.search(r"Too many attempts. Wait 1[56] seconds, then try again.", response.content.decode())
    assert not is_verified(client)
    failed = AuditEvent.objects.get(action="auth.2fa_failed", actor=cast.broker1)
    assert failed.changes["reason"] == "throttled"


def test_it_throttles_the_attempt_right_after_a_wrong_code(cast, client, login_as):
    device = otp_device_for(cast.broker1)
    login_as(cast.broker1, verified=False)
    client.post(VERIFY, {"token": wrong_totp_code(device)})

    response = client.post(VERIFY, {"token": totp_code(device)})

    assert "Too many attempts." in response.content.decode()
    assert not is_verified(client)


def test_it_accepts_a_recovery_code_only_once(cast, client, login_as):
    otp_device_for(cast.broker1)
    codes = two_factor.recovery_codes_regenerate(user=cast.broker1)
    login_as(cast.broker1, verified=False)

    first = client.post(VERIFY, {"token": codes[0], "next": "/"})

    assert first.status_code == 302
    assert is_verified(client)
    used = AuditEvent.objects.get(action="auth.recovery_code_used", actor=cast.broker1)
    assert used.changes == {"remaining": 9}
    assert codes[0] not in json.dumps(used.changes)

    login_as(cast.broker1, verified=False)
    second = client.post(VERIFY, {"token": codes[0]})

    assert second.status_code == 200
    assert "This recovery code is not valid or has already been used." in second.content.decode()
    assert not is_verified(client)


def test_it_accepts_a_recovery_code_typed_loosely(cast, client, login_as):
    otp_device_for(cast.broker1)
    codes = two_factor.recovery_codes_regenerate(user=cast.broker1)
    login_as(cast.broker1, verified=False)

    response = client.post(VERIFY, {"token": " " + codes[3].upper().replace("-", " ")})

    assert response.status_code == 302
    assert is_verified(client)


def test_it_stays_verified_after_regenerating_codes_with_a_recovery_code_session(cast, client, login_as):
    otp_device_for(cast.broker1)
    codes = two_factor.recovery_codes_regenerate(user=cast.broker1)
    login_as(cast.broker1, verified=False)
    client.post(VERIFY, {"token": codes[0]})

    response = client.post(reverse("accounts:recovery-codes-regenerate"))

    assert response.status_code == 200
    assert is_verified(client)


def test_it_ignores_a_foreign_next_after_verification(cast, client, login_as):
    device = otp_device_for(cast.broker1)
    login_as(cast.broker1, verified=False)

    response = client.post(VERIFY, {"token": totp_code(device), "next": "https://evil.example/steal"})

    assert response.url == reverse("shell:home")


def test_it_sends_a_verified_user_on_from_the_verify_page(cast, client, login_as):
    login_as(cast.broker1)

    response = client.get(f"{VERIFY}?next=/notifications/")

    assert response.status_code == 302
    assert response.url == "/notifications/"


def test_it_sends_a_required_user_without_device_from_verify_to_setup(cast, client, login_as):
    login_as(cast.backoffice, verified=False)

    response = client.get(f"{VERIFY}?next=/admin/")

    assert response.url == f"{SETUP}?next=%2Fadmin%2F"


def test_it_sends_anonymous_visitors_of_the_2fa_pages_to_login(client, db):
    for url in (SETUP, VERIFY, SECURITY):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith("/accounts/login/")


# --- the security page ------------------------------------------------------------------


def test_it_shows_the_two_factor_state_on_the_security_page(cast, client, login_as, django_assert_max_num_queries):
    login_as(cast.broker1)
    two_factor.recovery_codes_regenerate(user=cast.broker1)

    with django_assert_max_num_queries(20):
        response = client.get(SECURITY)

    html = response.content.decode()
    assert response.status_code == 200
    assert "You have 10 unused recovery codes." in html
    assert reverse("accounts:recovery-codes-regenerate") in html
    assert reverse("accounts:2fa-disable") not in html
    assert "cannot be turned off" in html


def test_it_offers_enrolment_to_a_client_without_second_factor(cast, client, login_as):
    login_as(cast.client1, verified=False)

    response = client.get(SECURITY)

    assert response.status_code == 200
    assert "Set up authenticator app" in response.content.decode()


def test_it_regenerates_recovery_codes_for_a_verified_session(cast, client, login_as):
    login_as(cast.broker1)
    old_codes = two_factor.recovery_codes_regenerate(user=cast.broker1)

    response = client.post(reverse("accounts:recovery-codes-regenerate"))

    new_codes = CODE_PATTERN.findall(response.content.decode())
    assert len(set(new_codes)) == 10
    assert not set(new_codes) & set(old_codes)
    assert StaticToken.objects.filter(device__user=cast.broker1).count() == 10
    assert AuditEvent.objects.filter(action="auth.recovery_codes_regenerated", actor=cast.broker1).count() == 2
    login_as(cast.broker1, verified=False)
    assert client.post(VERIFY, {"token": old_codes[0]}).status_code == 200
    assert not is_verified(client)


def test_it_refuses_to_regenerate_codes_for_an_unverified_session(cast, client, login_as):
    otp_device_for(cast.broker1)
    login_as(cast.broker1, verified=False)

    response = client.post(reverse("accounts:recovery-codes-regenerate"))

    assert response.status_code == 302
    assert response.url.startswith(VERIFY)
    assert not StaticToken.objects.exists()


def test_it_refuses_to_regenerate_codes_without_an_authenticator(cast, client, login_as):
    login_as(cast.client1, verified=False)

    response = client.post(reverse("accounts:recovery-codes-regenerate"))

    assert response.status_code == 302
    assert not StaticToken.objects.exists()


# --- turning it off ---------------------------------------------------------------------


def test_it_lets_a_client_turn_two_factor_off_with_a_current_code(cast, client, login_as):
    login_as(cast.client1)
    device = TOTPDevice.objects.get(user=cast.client1)
    two_factor.recovery_codes_regenerate(user=cast.client1)

    response = client.post(reverse("accounts:2fa-disable"), {"token": totp_code(device, steps_ahead=1)})

    assert response.status_code == 302
    assert response.url == SECURITY
    assert not two_factor.user_has_second_factor(cast.client1)
    assert not StaticToken.objects.filter(device__user=cast.client1).exists()
    assert AuditEvent.objects.filter(action="auth.2fa_disabled", actor=cast.client1).count() == 1
    assert client.get(SECURITY).status_code == 200


def test_it_keeps_two_factor_on_after_a_wrong_code(cast, client, login_as):
    login_as(cast.client1)
    device = TOTPDevice.objects.get(user=cast.client1)

    response = client.post(reverse("accounts:2fa-disable"), {"token": wrong_totp_code(device)})

    assert response.status_code == 200
    assert "This code is not valid." in response.content.decode()
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    assert AuditEvent.objects.get(action="auth.2fa_failed", actor=cast.client1).changes["stage"] == "disable"
    assert not AuditEvent.objects.filter(action="auth.2fa_disabled").exists()


def test_it_refuses_to_turn_two_factor_off_for_a_broker(cast, client, login_as):
    login_as(cast.broker1)
    device = TOTPDevice.objects.get(user=cast.broker1)

    response = client.post(reverse("accounts:2fa-disable"), {"token": totp_code(device)}, follow=True)

    assert "cannot be turned off" in response.content.decode()
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    assert not AuditEvent.objects.filter(action="auth.2fa_disabled").exists()


def test_it_lets_a_broker_turn_two_factor_off_when_it_is_not_required(cast, client, login_as, settings):
    settings.PORTAL_REQUIRE_2FA = False
    login_as(cast.broker1)
    device = TOTPDevice.objects.get(user=cast.broker1)

    response = client.post(reverse("accounts:2fa-disable"), {"token": totp_code(device, steps_ahead=1)})

    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=cast.broker1).exists()


def test_it_tells_how_many_recovery_codes_are_left(cast, client, login_as):
    otp_device_for(cast.broker1)
    codes = two_factor.recovery_codes_regenerate(user=cast.broker1)
    login_as(cast.broker1, verified=False)

    response = client.post(VERIFY, {"token": codes[0], "next": SECURITY}, follow=True)

    assert "You used a recovery code; 9 are left." in response.content.decode()
    assert "You have 9 unused recovery codes." in response.content.decode()


def test_it_starts_over_when_the_enrolment_has_expired(cast, client, login_as):
    login_as(cast.broker1, verified=False)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=cast.broker1)
    TOTPDevice.objects.filter(pk=device.pk).update(created_at=timezone.now() - two_factor.PENDING_DEVICE_LIFETIME)

    response = client.post(SETUP, {"token": totp_code(device), "next": "/"}, follow=True)

    assert response.redirect_chain == [(f"{SETUP}?next=%2F", 302)]
    assert "Your set-up has expired." in response.content.decode()
    assert TOTPDevice.objects.get(user=cast.broker1).pk != device.pk
    assert not two_factor.user_has_second_factor(cast.broker1)


# --- nothing of the account before the second factor ----------------------------------


def test_the_code_page_shows_nothing_of_the_account_before_the_code(cast, client):
    from portal.notifications.services import notify

    otp_device_for(cast.broker1)
    notify(user=cast.broker1, event="account.welcome")

    response = client.post("/accounts/login/", {"login": cast.broker1.email, "password": PASSWORD}, follow=True)

    html = response.content.decode()
    assert response.redirect_chain[-1][0].startswith(VERIFY)
    assert "signed in as" not in html
    assert cast.broker1.email not in html
    assert 'data-testid="role-nav"' in html and "nav-link active" not in html
    assert 'data-testid="notification-bell"' not in html
    assert 'data-testid="user-menu"' not in html
    assert reverse("intermediaries:dashboard") not in html
    assert 'action="/accounts/logout/"' in html  # the way out stays


def test_after_the_code_the_account_and_a_signed_in_message_appear(cast, client):
    from .conftest import totp_code

    device = otp_device_for(cast.broker1)
    client.post("/accounts/login/", {"login": cast.broker1.email, "password": PASSWORD})

    response = client.post(VERIFY, {"token": totp_code(device), "next": "/broker/"}, follow=True)

    html = response.content.decode()
    assert "You are signed in." in html
    assert 'data-testid="user-menu"' in html
    assert cast.broker1.email in html
