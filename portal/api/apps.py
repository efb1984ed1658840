from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "portal.api"
    label = "portal_api"
    verbose_name = _("API")

    def ready(self):
        from django.db.models.signals import post_migrate

        from portal.core.demo import DemoStep, register_step
        from portal.core.navigation import NavItem, register
        from portal.notifications.registry import EMAIL, IN_APP, register_event

        from . import (
            permissions,  # noqa: F401  (registers the API key policy)
            schema,  # noqa: F401 (registers the API key scheme with drf-spectacular)
        )
        from .demo import demo_step
        from .permissions import KEY_HOLDER_ROLES
        from .roles import backoffice_permissions_grant
        from .scopes import register_scope_group

        register_scope_group("account", _("Your profile"), description=_("/api/v1/me/"), order=0)
        # The client book's endpoints (intermediaries.api) name this group in their permission
        # class; it is registered here because intermediaries only reads it.
        register_scope_group(
            "clients",
            _("Clients and portfolios"),
            description=_("Clients, portfolios, positions, transactions, performance, dashboard"),
            order=10,
        )
        register(
            NavItem(label=_("API keys"), url_name="api_keys:key-list", roles=frozenset(KEY_HOLDER_ROLES), order=85)
        )
        register_event(
            "security.api_key_created",
            _("New API key"),
            default_channels={IN_APP, EMAIL},
            required_channels={EMAIL},
            description=_("Sent when an API key is created or rotated on your account."),
        )
        register_step(DemoStep(name="API key for broker1", run=demo_step, order=90))
        post_migrate.connect(
            backoffice_permissions_grant, sender=self, dispatch_uid="portal_api.backoffice_permissions"
        )
