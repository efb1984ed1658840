"""The second factor: a TOTP authenticator app (django-otp) and single-use recovery codes.

Views validate the input and call these services. Each write runs in one transaction and
appends one audit event; codes and secrets never reach the audit trail or the logs.
Recovery codes live in django-otp's static device, but only as a keyed hash of the code,
so a copy of the database does not hand anyone a second factor.
"""

import math
import secrets
from base64 import b32encode
from dataclasses import dataclass, field
from datetime import timedelta

import django_otp
import qrcode
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.safestring import SafeString, mark_safe
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from qrcode.image.svg import SvgPathImage

from portal.audit.services import audit_record
from portal.notifications.services import notify

RECOVERY_CODE_COUNT = 10
# Without look-alikes (0/o, 1/l/i): 31 symbols, ten of them make about 49 bits per code.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_RECOVERY_LENGTH = 10
_RECOVERY_HASH_SALT = "portal.accounts.two_factor.recovery-code"
TOTP_DEVICE_NAME = "authenticator"
RECOVERY_DEVICE_NAME = "recovery codes"
# An enrolment that is not confirmed within this time starts over with a new secret.
PENDING_DEVICE_LIFETIME = timedelta(hours=1)


class SecondFactorError(Exception):
    """The requested change does not fit the user's current two-factor state."""


class SecondFactorRequired(SecondFactorError):
    """The user's role requires a second factor, so it cannot be turned off."""


@dataclass(frozen=True)
class CodeCheck:
    """The outcome of checking a code. `wait_seconds` > 0 means it was refused unchecked (throttled)."""

    ok: bool
    method: str = ""
    wait_seconds: int = 0
    device: Device | None = None
    recovery_codes: list[str] = field(default_factory=list)

    @property
    def throttled(self) -> bool:
        return self.wait_seconds > 0


@dataclass(frozen=True)
class TwoFactorStatus:
    totp_enabled: bool
    recovery_codes_remaining: int
    required: bool

    @property
    def can_disable(self) -> bool:
        return self.totp_enabled and not self.required


# --- reads -------------------------------------------------------------------------------


def user_has_second_factor(user) -> bool:
    return bool(user.second_factor_devices)


def second_factor_pending(user) -> bool:
    """Signed in with the password, but the code (or the enrolment the role requires) is still missing.

    Until it is done the pages show nothing of the account: no menu, no notifications, no e-mail.
    """
    if not user.is_authenticated or session_verified(user):
        return False
    return user_has_second_factor(user) or second_factor_required(user)


def session_verified(user) -> bool:
    """Whether the request's user has proven a second factor in this session.

    False for an API key's owner (a key proves a secret, not a second factor) and for anyone the
    second-factor middleware did not see.
    """
    return getattr(user, "otp_device", None) is not None


# What an action that needs a second factor can tell the user before the click.
SECOND_FACTOR_NONE = "none"  # no authenticator yet: set one up first
SECOND_FACTOR_UNVERIFIED = "unverified"  # enrolled, but this session has not entered a code
SECOND_FACTOR_VERIFIED = "verified"


def second_factor_state(user) -> str:
    if session_verified(user):
        return SECOND_FACTOR_VERIFIED
    return SECOND_FACTOR_UNVERIFIED if user_has_second_factor(user) else SECOND_FACTOR_NONE


def second_factor_required(user) -> bool:
    """Read at call time so that a settings override (tests, environment) applies at once."""
    return bool(settings.PORTAL_REQUIRE_2FA and user.needs_second_factor)


def two_factor_status(*, user) -> TwoFactorStatus:
    return TwoFactorStatus(
        totp_enabled=TOTPDevice.objects.filter(user=user, confirmed=True).exists(),
        recovery_codes_remaining=StaticToken.objects.filter(device__user=user, device__confirmed=True).count(),
        required=second_factor_required(user),
    )


def totp_device_pending(*, user) -> TOTPDevice | None:
    """The user's enrolment in progress, if it is recent enough to finish."""
    return (
        TOTPDevice.objects.filter(user=user, confirmed=False, created_at__gte=timezone.now() - PENDING_DEVICE_LIFETIME)
        .order_by("-id")
        .first()
    )


def totp_qr_svg(device: TOTPDevice) -> SafeString:
    """The enrolment QR code as inline SVG, drawn here: the secret never goes to an image service."""
    image = qrcode.make(device.config_url, image_factory=SvgPathImage, border=2)
    # Only path data that qrcode computed from our own URL; nothing typed by a user is echoed.
    return mark_safe(image.to_string(encoding="unicode"))  # noqa: S308


def totp_secret_display(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for typing into an app by hand."""
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def looks_like_totp(token: str) -> bool:
    return token.isdigit() and len(token) == 6


def recovery_code_normalise(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


# --- writes ------------------------------------------------------------------------------


def totp_device_start(*, user) -> TOTPDevice:
    """Begin an enrolment: a new, unconfirmed authenticator with a fresh secret."""
    with transaction.atomic(durable=True):
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
        audit_record(action="auth.2fa_setup_started", actor=user, obj=user, changes={"device_id": device.pk})
    return device


def totp_device_confirm(*, user, device: TOTPDevice, token: str) -> CodeCheck:
    """Finish an enrolment with a code from the app; on success return ten new recovery codes.

    The confirmed authenticator replaces any earlier one, and the recovery codes replace
    any earlier codes. The caller logs the device in for the session.
    """
    with transaction.atomic(durable=True):
        device = TOTPDevice.objects.select_for_update().filter(pk=device.pk, user=user, confirmed=False).first()
        if device is None:
            raise SecondFactorError("This enrolment is no longer pending.")
        check = _device_check(device, token, method="totp")
        if not check.ok:
            _audit_failure(user, check, stage="setup")
            return check
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        user.forget_cached_state()
        replaced, _ = TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        codes = _recovery_codes_replace(user)
        audit_record(
            action="auth.2fa_enrolled",
            actor=user,
            obj=user,
            changes={"device_id": device.pk, "replaced_devices": replaced, "recovery_codes": len(codes)},
        )
        # Tell the owner by e-mail too: if it was not them, they learn at once.
        notify(user=user, event="security.2fa_enabled", idempotency_key=f"2fa-enabled:{device.pk}")
    return CodeCheck(ok=True, method="totp", device=device, recovery_codes=codes)


def recovery_codes_regenerate(*, user) -> list[str]:
    """Void every remaining recovery code and return ten new ones (shown once, stored hashed).

    The caller makes sure the session is verified by a second factor.
    """
    with transaction.atomic(durable=True):
        if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            raise SecondFactorError("Recovery codes need an authenticator app.")
        codes = _recovery_codes_replace(user)
        user.forget_cached_state()
        audit_record(action="auth.recovery_codes_regenerated", actor=user, obj=user, changes={"count": len(codes)})
    return codes


def two_factor_disable(*, user, token: str) -> CodeCheck:
    """Turn two-factor authentication off, after a current code from the authenticator app."""
    with transaction.atomic(durable=True):
        if second_factor_required(user):
            raise SecondFactorRequired("Your role requires two-factor authentication.")
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("-id").first()
        if device is None:
            raise SecondFactorError("Two-factor authentication is not enabled.")
        check = _device_check(device, token, method="totp")
        if not check.ok:
            _audit_failure(user, check, stage="disable")
            return check
        totp_count, _ = TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        user.forget_cached_state()
        audit_record(action="auth.2fa_disabled", actor=user, obj=user, changes={"devices_removed": totp_count})
    return check


def second_factor_verify(*, request, token: str) -> CodeCheck:
    """Complete the login with a code from the app or a recovery code (which is used up).

    On success the device is logged in for the session and the session key is renewed,
    because the session has just gained the right to do sensitive things.
    """
    user = request.user
    with transaction.atomic(durable=True):
        check = _totp_check(user, token) if looks_like_totp(token) else _recovery_code_check(user, token)
        if not check.ok:
            _audit_failure(user, check, stage="login")
        elif check.method == "recovery_code":
            remaining = StaticToken.objects.filter(device=check.device).count()
            audit_record(action="auth.recovery_code_used", actor=user, obj=user, changes={"remaining": remaining})
            audit_record(action="auth.2fa_verified", actor=user, obj=user, changes={"method": check.method})
        else:
            audit_record(action="auth.2fa_verified", actor=user, obj=user, changes={"method": check.method})
    if check.ok:
        second_factor_session_login(request, check.device)
    return check


def second_factor_session_login(request, device: Device) -> None:
    """Mark the session as verified by `device`, under a new session key (its rights just grew)."""
    django_otp.login(request, device)
    request.session.cycle_key()


# --- helpers -----------------------------------------------------------------------------


def _wait_seconds(info) -> int:
    locked_until = (info or {}).get("locked_until")
    if locked_until is None:
        return 1
    return max(1, math.ceil((locked_until - timezone.now()).total_seconds()))


def _device_check(device, token: str, *, method: str) -> CodeCheck:
    """Check a code against one locked device, honouring django-otp's back-off after failures."""
    allowed, info = device.verify_is_allowed()
    if not allowed:
        return CodeCheck(ok=False, method=method, wait_seconds=_wait_seconds(info), device=device)
    return CodeCheck(ok=device.verify_token(token), method=method, device=device)


def _totp_check(user, token: str) -> CodeCheck:
    devices = list(TOTPDevice.objects.filter(user=user, confirmed=True).select_for_update().order_by("-id"))
    checks = []
    for device in devices:
        check = _device_check(device, token, method="totp")
        if check.ok:
            return check
        checks.append(check)
    if checks and all(c.throttled for c in checks):
        return CodeCheck(ok=False, method="totp", wait_seconds=min(c.wait_seconds for c in checks))
    return CodeCheck(ok=False, method="totp")


def _recovery_code_digests(code: str) -> list[str]:
    """Keyed hashes of a code under the current and the previous secret keys (key rotation)."""
    normalised = recovery_code_normalise(code)
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    # StaticToken.token holds 16 characters: 64 bits of the HMAC.
    return [
        salted_hmac(_RECOVERY_HASH_SALT, normalised, secret=key, algorithm="sha256").hexdigest()[:16] for key in keys
    ]


def _recovery_code_check(user, token: str) -> CodeCheck:
    device = StaticDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("-id").first()
    if device is None:
        return CodeCheck(ok=False, method="recovery_code")
    allowed, info = device.verify_is_allowed()
    if not allowed:
        return CodeCheck(ok=False, method="recovery_code", wait_seconds=_wait_seconds(info), device=device)
    # StaticDevice.verify_token compares one stored value; we compare one hash per secret key,
    # with the same bookkeeping: the code is deleted, and failures feed the back-off.
    match = device.token_set.filter(token__in=_recovery_code_digests(token)).first()
    if match is None:
        device.throttle_increment()
        return CodeCheck(ok=False, method="recovery_code", device=device)
    match.delete()
    device.throttle_reset(commit=False)
    device.set_last_used_timestamp(commit=False)
    device.save()
    return CodeCheck(ok=True, method="recovery_code", device=device)


def _recovery_code_generate() -> str:
    code = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
    return f"{code[:5]}-{code[5:]}"


def _recovery_codes_replace(user) -> list[str]:
    """Keep one static device per user (a session verified by it stays verified); swap its codes."""
    StaticDevice.objects.filter(user=user).exclude(name=RECOVERY_DEVICE_NAME).delete()
    device, _ = StaticDevice.objects.get_or_create(user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True})
    device.token_set.all().delete()
    device.throttle_reset()
    codes = [_recovery_code_generate() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=_recovery_code_digests(c)[0]) for c in codes)
    return codes


def _audit_failure(user, check: CodeCheck, *, stage: str) -> None:
    audit_record(
        action="auth.2fa_failed",
        actor=user,
        obj=user,
        changes={
            "stage": stage,
            "method": check.method,
            "reason": "throttled" if check.throttled else "wrong_code",
        },
    )
