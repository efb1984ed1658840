from django.contrib.admin.apps import AdminConfig


class PortalAdminConfig(AdminConfig):
    """Django's admin with the portal's site (admin_site.py) as `admin.site`."""

    default_site = "portal.accounts.admin_site.PortalAdminSite"
