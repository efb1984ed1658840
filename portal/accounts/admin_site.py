from django.conf import settings
from django.contrib.admin import AdminSite


def require_second_factor_for_admin(site: AdminSite) -> None:
    """Django admin refuses a session without a verified second factor while 2FA is required."""
    plain_has_permission = site.has_permission

    def has_permission(request):
        if not plain_has_permission(request):
            return False
        if settings.PORTAL_REQUIRE_2FA:
            return request.user.is_verified()
        return True

    site.has_permission = has_permission
