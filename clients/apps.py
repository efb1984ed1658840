from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClientsConfig(AppConfig):
    name = "clients"
    verbose_name = _("Clients")

    def ready(self):
        from portal.accounts.roles import Role
        from portal.core.demo import DemoStep, register_step
        from portal.core.navigation import NavItem, register, register_role_home
        from portal.notifications.registry import EMAIL, IN_APP, register_event
        from portal.threads.registry import register_thread_kind

        from . import (
            permissions,  # noqa: F401  (registers this app's policies)
            signals,
            threads,
        )
        from .demo import demo_step, thread_demo_step
        from .models import Client
        from .zone import DataExportPart, register_export_part

        signals.connect()
        # The client zone's menu, in this order: Home (1), Portfolio (2-4, intermediaries), Documents
        # to sign (5, signing), Documents (6), My adviser (7), Profile (90).
        zone = frozenset({Role.CLIENT})
        register(
            NavItem(label=_("Home"), url_name="clients:home", roles=zone, order=1),
            NavItem(label=_("Documents"), url_name="clients:documents", roles=zone, order=6),
            NavItem(label=_("My adviser"), url_name="clients:adviser", roles=zone, order=7),
            NavItem(label=_("Profile"), url_name="clients:profile", roles=zone, order=90),
        )
        register_role_home(Role.CLIENT, "clients:home")
        register_event(
            "clients.data_export_ready",
            _("Your data is ready to download"),
            default_channels={IN_APP, EMAIL},
            description=_("The copy of your data you asked for can be downloaded for 7 days."),
            required_channels={IN_APP},
            roles=zone,
        )
        # The client's conversation with their broker, on the client's record.
        register_thread_kind(
            Client,
            can_read=threads.client_thread_can_read,
            can_write=threads.client_thread_can_write,
            is_staff_side=threads.client_thread_is_staff_side,
            participants=threads.client_thread_participants,
            url=threads.client_thread_url,
            subject=threads.client_thread_subject,
            queryset=threads.client_thread_rows,
        )
        register_step(DemoStep(name="client conversation", run=thread_demo_step, order=85))
        register_export_part(DataExportPart(key="messages", build=threads.client_thread_export, order=80))
        # After the apps whose data the export collects (their demo steps come first).
        register_step(DemoStep(name="client profile", run=demo_step, order=90))

        from portal.audit.actions import register_actions

        register_actions(
            {
                "client.shared": _("Client shared with a broker of the firm"),
                "client.unshared": _("Client no longer shared with a broker"),
                "client.user_linked": _("Client linked to a portal login"),
                "client.contact_updated": _("Contact data changed by the client"),
                "client.data_export_requested": _("Copy of the client's data requested"),
                "client.data_export_ready": _("Copy of the client's data ready"),
                "client.data_export_downloaded": _("Copy of the client's data downloaded"),
                "client.data_export_expired": _("Copy of the client's data deleted after its time"),
            }
        )
