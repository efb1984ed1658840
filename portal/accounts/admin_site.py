"""The back-office admin: Django's admin site that needs a second factor and the portal's login.

Installed as the default admin site through `admin_apps.PortalAdminConfig` (Django's documented
way to replace `admin.site`), so every app's `admin.register` lands here.
"""

from django.conf import settings
from django.contrib.admin import AdminSite
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from .two_factor import session_verified


class PortalAdminSite(AdminSite):
    """Staff whose session is not verified by a second factor are refused while 2FA is required.

    The admin's own login form is replaced by the portal's: it would otherwise be a second way in
    that skips allauth's lockout after failed passwords and the second-factor step.
    """

    site_header = _("Partnerzone back office")
    site_title = _("Partnerzone")

    def has_permission(self, request):
        if not super().has_permission(request):
            return False
        return session_verified(request.user) if settings.PORTAL_REQUIRE_2FA else True

    @method_decorator(never_cache)
    def login(self, request, extra_context=None):
        index = reverse("admin:index", current_app=self.name)
        next_url = request.GET.get(REDIRECT_FIELD_NAME, "")
        if not url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            next_url = index
        if not request.user.is_authenticated:
            return redirect_to_login(next_url, reverse("account_login"))
        if self.has_permission(request):
            return redirect(next_url)
        if super().has_permission(request):
            # Staff, but the session has no verified second factor yet.
            return redirect_to_login(next_url, reverse("accounts:2fa-verify"))
        raise PermissionDenied
