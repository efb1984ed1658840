"""The two-factor services on their own: what they store, what they audit, what they refuse."""

import json

import pytest
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.accounts import two_factor
from portal.audit.models import AuditEvent
from tests.conftest import otp_device_for

from .conftest import audit_actions, totp_code, verify_request, wrong_totp_code

pytestmark = pytest.mark.django_db


def test_it_starts_an_enrolment_with_a_fresh_unconfirmed_device(cast):
    first = two_factor.totp_device_start(user=cast.broker1)
    second = two_factor.totp_device_start(user=cast.broker1)

    assert list(TOTPDevice.objects.filter(user=cast.broker1)) == [second]
    assert not second.confirmed
    assert second.key != first.key
    assert two_factor.totp_device_pending(user=cast.broker1) == second
    assert audit_actions(cast.broker1) == ["auth.2fa_setup_started", "auth.2fa_setup_started"]


def test_it_does_not_count_an_unconfirmed_device_as_a_second_factor(cast):
    two_factor.totp_device_start(user=cast.broker1)

    assert not two_factor.user_has_second_factor(cast.broker1)


def test_it_confirms_an_enrolment_and_returns_ten_recovery_codes(cast):
    device = two_factor.totp_device_start(user=cast.broker1)

    check = two_factor.totp_device_confirm(user=cast.broker1, device=device, token=totp_code(device))

    assert check.ok
    assert len(set(check.recovery_codes)) == 10
    assert two_factor.two_factor_status(user=cast.broker1).recovery_codes_remaining == 10
    assert two_factor.user_has_second_factor(cast.broker1)


def test_it_stores_recovery_codes_only_as_keyed_hashes(cast):
    otp_device_for(cast.broker1)

    codes = two_factor.recovery_codes_regenerate(user=cast.broker1)

    stored = set(StaticToken.objects.filter(device__user=cast.broker1).values_list("token", flat=True))
    assert len(stored) == 10
    assert not stored & set(codes)
    assert not stored & {code.replace("-", "") for code in codes}


def test_it_still_accepts_recovery_codes_after_a_secret_key_rotation(cast, settings, rf):
    otp_device_for(cast.broker1)
    codes = two_factor.recovery_codes_regenerate(user=cast.broker1)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-for-this-test-0123456789-abcdefghijklmnop"

    check = two_factor.second_factor_verify(request=verify_request(rf, cast.broker1), token=codes[0])

    assert check.ok


def test_it_refuses_recovery_codes_without_an_authenticator(cast):
    with pytest.raises(two_factor.SecondFactorError):
        two_factor.recovery_codes_regenerate(user=cast.client1)

    assert not StaticToken.objects.exists()


def test_it_refuses_to_disable_two_factor_for_a_role_that_needs_it(cast):
    device = otp_device_for(cast.broker1)

    with pytest.raises(two_factor.SecondFactorRequired):
        two_factor.two_factor_disable(user=cast.broker1, token=totp_code(device))

    assert TOTPDevice.objects.filter(pk=device.pk).exists()


def test_it_verifies_and_logs_the_device_into_the_session(cast, rf):
    device = otp_device_for(cast.client1)
    request = verify_request(rf, cast.client1)

    check = two_factor.second_factor_verify(request=request, token=totp_code(device))

    assert check.ok
    assert request.session["otp_device_id"] == device.persistent_id
    assert audit_actions(cast.client1) == ["auth.2fa_verified"]


def test_it_never_writes_a_code_into_the_audit_trail(cast, rf):
    device = two_factor.totp_device_start(user=cast.client1)
    setup_code = totp_code(device)
    codes = two_factor.totp_device_confirm(user=cast.client1, device=device, token=setup_code).recovery_codes
    wrong = wrong_totp_code(device)
    two_factor.second_factor_verify(request=verify_request(rf, cast.client1), token=wrong)
    two_factor.second_factor_verify(request=verify_request(rf, cast.client1), token="zzzzz-zzzzz")
    TOTPDevice.objects.filter(user=cast.client1).update(throttling_failure_count=0)
    StaticDevice.objects.filter(user=cast.client1).update(throttling_failure_count=0)
    two_factor.second_factor_verify(request=verify_request(rf, cast.client1), token=codes[1])
    device.refresh_from_db()
    disable_code = totp_code(device, steps_ahead=1)
    two_factor.two_factor_disable(user=cast.client1, token=disable_code)

    trail = json.dumps(list(AuditEvent.objects.values("changes", "object_repr", "actor_label")))
    assert audit_actions(cast.client1) == [
        "auth.2fa_setup_started",
        "auth.2fa_enrolled",
        "auth.2fa_failed",
        "auth.2fa_failed",
        "auth.recovery_code_used",
        "auth.2fa_verified",
        "auth.2fa_disabled",
    ]
    for secret in [setup_code, wrong, disable_code, device.key, *codes, *(c.replace("-", "") for c in codes)]:
        assert secret not in trail
