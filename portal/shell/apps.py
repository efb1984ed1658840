from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShellConfig(AppConfig):
    """The kernel's shell: home and role pages, health, error pages, the page shell's context, the demo."""

    name = "portal.shell"
    label = "shell"
    verbose_name = _("Portal")

    def ready(self):
        from portal.accounts.roles import OVERSIGHT_ROLES, Role
        from portal.core.navigation import NavItem, register

        # Admin pages answer only staff: the entries that lead there show only to staff.
        register(
            NavItem(label=_("Home"), url_name="shell:home", order=0, only_without_role_home=True),
            NavItem(
                label=_("Audit trail"),
                url_name="admin:audit_auditevent_changelist",
                roles=OVERSIGHT_ROLES,
                order=90,
                staff_only=True,
            ),
            NavItem(
                label=_("Outbox"),
                url_name="admin:notifications_outboxmessage_changelist",
                roles=frozenset({Role.BACKOFFICE}),
                order=92,
                staff_only=True,
            ),
            NavItem(label=_("Admin"), url_name="admin:index", roles=OVERSIGHT_ROLES, order=99, staff_only=True),
        )
