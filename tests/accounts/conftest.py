"""Helpers for the login and two-factor tests: codes computed the way an authenticator app does."""

import time

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import cache
from django_otp.oath import TOTP

from portal.accounts.services import role_groups_ensure
from portal.audit.models import AuditEvent


@pytest.fixture(autouse=True)
def _role_groups(request):
    """Transactional tests flush the role groups that a data migration created; bring them back."""
    if request.node.get_closest_marker("django_db"):
        role_groups_ensure()


@pytest.fixture(autouse=True)
def _empty_cache():
    """allauth counts failed logins in the cache; every test starts with a clean slate."""
    cache.clear()
    yield
    cache.clear()


def totp_code(device, *, steps_ahead: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def wrong_totp_code(device) -> str:
    """A code the device would refuse now (none of the codes inside its tolerance window)."""
    valid = {totp_code(device, steps_ahead=offset) for offset in (-2, -1, 0, 1, 2)}
    return next(code for code in ("000000", "111111", "222222", "333333", "444444", "555555") if code not in valid)


def audit_actions(user) -> list[str]:
    """The second-factor events about `user`, oldest first."""
    events = AuditEvent.objects.filter(
        object_type="accounts.user", object_id=str(user.pk), action__regex=r"^auth\.(2fa|recovery)"
    )
    return list(events.order_by("id").values_list("action", flat=True))


def verify_request(rf, user):
    """A request as the verify page gets it: the user logged in, a database session, no device yet."""
    request = rf.post("/accounts/2fa/verify/")
    request.session = SessionStore()
    request.user = user
    return request
