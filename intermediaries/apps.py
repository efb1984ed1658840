from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntermediariesConfig(AppConfig):
    name = "intermediaries"
    verbose_name = _("Intermediaries")

    def ready(self):
        from portal.accounts.roles import Role
        from portal.core.navigation import NavItem, register, register_role_home

        brokers = frozenset({Role.INTERMEDIARY, Role.FIRM_MANAGER})
        register(
            NavItem(label=_("Dashboard"), url_name="intermediaries:dashboard", roles=brokers, order=1),
            NavItem(label=_("Clients"), url_name="intermediaries:client-list", roles=brokers, order=10),
            NavItem(label=_("Team"), url_name="intermediaries:team", roles=frozenset({Role.FIRM_MANAGER}), order=11),
            NavItem(
                label=_("Portfolio"), url_name="intermediaries:zone-positions", roles=frozenset({Role.CLIENT}), order=3
            ),
        )
        register_role_home(Role.INTERMEDIARY, "intermediaries:dashboard")
        register_role_home(Role.FIRM_MANAGER, "intermediaries:dashboard")

        from portal.core.demo import DemoStep, register_step
        from signing.addressbook import register_address_book

        from . import signals
        from .addressbook import ClientBook
        from .demo import demo_step

        signals.connect()
        register_address_book(ClientBook())
        register_step(DemoStep(name="broker workspace: core feed and valuations", run=demo_step, order=20))

        # The client zone: home panels and the "download my data" part (clients may not import us).
        from clients.zone import register_export_part, register_home_panel

        from .zone_panels import EXPORT_PART, HOME_PANELS

        for panel in HOME_PANELS:
            register_home_panel(panel)
        register_export_part(EXPORT_PART)

        from portal.audit.actions import register_actions

        register_actions({"feed.imported": _("Core system feed imported")})
