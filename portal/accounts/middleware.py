from urllib.parse import urlencode

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from .two_factor import user_has_second_factor

# Paths a half-logged-in user may still reach: the 2FA pages themselves, logout, assets.
_EXEMPT_PREFIXES = ("/static/", "/accounts/2fa/", "/accounts/logout/", "/i18n/", "/healthz", "/api/schema")


class SecondFactorMiddleware:
    """After the password, ask for the code; users who must have a second factor enrol first."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and not user.is_verified() and not request.path.startswith(_EXEMPT_PREFIXES):
            target = None
            if user_has_second_factor(user):
                target = "accounts:2fa-verify"
            elif settings.PORTAL_REQUIRE_2FA and user.needs_second_factor:
                target = "accounts:2fa-setup"
            if target:
                if request.path.startswith("/api/"):
                    return JsonResponse(
                        {"error": {"code": "second_factor_required", "message": _("Verify your second factor first.")}},
                        status=403,
                    )
                return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
