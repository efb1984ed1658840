"""Security events reach the account owner by e-mail (through the outbox) and in the app."""

import pytest
from django.urls import reverse

from portal.audit.models import AuditEvent
from portal.notifications.models import Notification, OutboxMessage
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_changing_the_password_notifies_the_owner_and_is_audited(cast, login_as):
    client = login_as(cast.client1)
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": "a-new-long-passphrase-42", "password2": "a-new-long-passphrase-42"},
    )
    assert response.status_code == 302
    mail = OutboxMessage.objects.get(user=cast.client1, event="security.password_changed", channel="email")
    assert mail.recipient == "client1@example.com"
    assert Notification.objects.filter(user=cast.client1, event="security.password_changed").exists()
    assert AuditEvent.objects.filter(action="auth.password_changed", actor=cast.client1).exists()


def test_a_wrong_old_password_changes_nothing(cast, login_as):
    client = login_as(cast.client1)
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": "wrong", "password1": "a-new-long-passphrase-42", "password2": "a-new-long-passphrase-42"},
    )
    assert response.status_code == 200
    assert not OutboxMessage.objects.filter(event="security.password_changed").exists()
    cast.client1.refresh_from_db()
    assert cast.client1.check_password(PASSWORD)


def test_turning_on_two_factor_sends_a_security_mail(cast):
    from django_otp.oath import TOTP

    from portal.accounts.two_factor import totp_device_confirm, totp_device_start

    device = totp_device_start(user=cast.client2)
    device = getattr(device, "device", device)
    token = f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():06d}"
    assert totp_device_confirm(user=cast.client2, device=device, token=token).ok
    assert OutboxMessage.objects.filter(user=cast.client2, event="security.2fa_enabled", channel="email").count() == 1
