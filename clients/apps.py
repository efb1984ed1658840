from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClientsConfig(AppConfig):
    name = "clients"
    verbose_name = _("Clients")

    def ready(self):
        from portal.accounts.roles import Role
        from portal.core.navigation import NavItem, register, register_role_home

        from . import (
            permissions,  # noqa: F401  (registers this app's policies)
            signals,
        )

        signals.connect()
        # The client zone's menu, in this order: Home (1), Portfolio (2-4, intermediaries), Documents
        # to sign (5, signing), Documents (6), My adviser (7), Profile (8 and after).
        zone = frozenset({Role.CLIENT})
        register(
            NavItem(label=_("Home"), url_name="clients:home", roles=zone, order=1),
            NavItem(label=_("Documents"), url_name="clients:documents", roles=zone, order=6),
            NavItem(label=_("My adviser"), url_name="clients:adviser", roles=zone, order=7),
        )
        register_role_home(Role.CLIENT, "clients:home")

        from portal.audit.actions import register_actions

        register_actions(
            {
                "client.shared": _("Client shared with a broker of the firm"),
                "client.unshared": _("Client no longer shared with a broker"),
                "client.user_linked": _("Client linked to a portal login"),
            }
        )
