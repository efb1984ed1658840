import functools
from urllib.parse import urlencode

from django.contrib import auth
from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthenticationMiddleware
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.middleware import is_verified

from portal.core.cache import read_ahead_scope
from portal.core.errors import error_json_response

from .sessions import session_user_remember
from .two_factor import second_factor_required, session_verified, user_has_second_factor
from .user_sessions import user_session_seen

# Paths a half-logged-in user may still reach: the 2FA pages themselves, logout, assets.
_EXEMPT_PREFIXES = ("/static/", "/accounts/2fa/", "/accounts/logout/", "/i18n/", "/healthz", "/api/schema")


class AuthenticationMiddleware(DjangoAuthenticationMiddleware):
    """Django's, with the user loaded at once and the device that verified the session attached.

    Every page needs the user, so there is nothing to gain from loading it lazily, and each access
    through the lazy proxy costs a call. Like django-otp's OTPMiddleware, `user.otp_device` is the
    device that verified this session (or None) and `user.is_verified()` says whether there is one;
    the device is taken from the user's confirmed devices, which the signed-in user carries from
    the cache (`backends.py`), instead of one more query per request.
    """

    def __call__(self, request):
        # Entries read ahead with the session (the signed-in user, the unread count) live for this request.
        with read_ahead_scope():
            return super().__call__(request)

    def process_request(self, request):
        super().process_request(request)
        user = auth.get_user(request)
        if user.is_authenticated:
            session_user_remember(request.session.session_key, user.pk)
            user_session_seen(request=request, user=user)
        request.user = _with_second_factor(request, user)


class SecondFactorMiddleware:
    """After the password, ask for the code; users who must have a second factor enrol first.

    Anyone with a confirmed device verifies it before anything else. Users whose role needs a
    second factor and who have none are sent to enrolment while PORTAL_REQUIRE_2FA is on (read
    per request, so an override takes effect at once). API calls get a JSON 403 instead.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and not session_verified(user) and not request.path.startswith(_EXEMPT_PREFIXES):
            target = None
            if user_has_second_factor(user):
                target = "accounts:2fa-verify"
            elif second_factor_required(user):
                target = "accounts:2fa-setup"
            if target:
                return self._refuse(request, target)
        return self.get_response(request)

    @staticmethod
    def _refuse(request, target):
        if request.path.startswith("/api/"):
            return error_json_response(
                code="second_factor_required", message=_("Verify your second factor first."), status=403
            )
        # Coming back to a POST-only address after the code would fail; go back to the page instead.
        next_url = request.get_full_path() if request.method in ("GET", "HEAD") else reverse("shell:home")
        url = f"{reverse(target)}?{urlencode({'next': next_url})}"
        if request.headers.get("HX-Request"):
            # An htmx request would swap the whole 2FA page into a fragment; make it a full navigation.
            response = HttpResponse()
            response["HX-Redirect"] = url
            return response
        return redirect(url)


def _with_second_factor(request, user):
    user.otp_device = None
    user.is_verified = functools.partial(is_verified, user)
    if user.is_authenticated:
        persistent_id = request.session.get(DEVICE_ID_SESSION_KEY)
        if persistent_id:
            user.otp_device = next((d for d in user.second_factor_devices if d.persistent_id == persistent_id), None)
            if user.otp_device is None:  # deleted, unconfirmed or someone else's: the session is not verified
                del request.session[DEVICE_ID_SESSION_KEY]
    return user
