from django.conf import settings
from django.contrib.admin import AdminSite
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache


def require_second_factor_for_admin(site: AdminSite) -> None:
    """Django admin refuses a session without a verified second factor while 2FA is required.

    The admin's own login form is replaced by the portal's: it would otherwise be a second
    way in that skips allauth's lockout after failed passwords and the second-factor step.
    """
    plain_has_permission = site.has_permission

    def has_permission(request):
        if not plain_has_permission(request):
            return False
        if settings.PORTAL_REQUIRE_2FA:
            return request.user.is_verified()
        return True

    @never_cache
    def login(request, extra_context=None):
        index = reverse("admin:index", current_app=site.name)
        next_url = request.GET.get(REDIRECT_FIELD_NAME, "")
        if not url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            next_url = index
        if not request.user.is_authenticated:
            return redirect_to_login(next_url, reverse("account_login"))
        if has_permission(request):
            return redirect(next_url)
        if plain_has_permission(request):
            # Staff, but the session has no verified second factor yet.
            return redirect_to_login(next_url, reverse("accounts:2fa-verify"))
        raise PermissionDenied

    site.has_permission = has_permission
    site.login = login
