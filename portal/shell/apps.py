from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShellConfig(AppConfig):
    """The kernel's shell: home and role pages, health, error pages, the page shell's context, the demo."""

    name = "portal.shell"
    label = "shell"
    verbose_name = _("Portal")

    def ready(self):
        from portal.accounts.roles import OVERSIGHT_ROLES
        from portal.core.navigation import NavItem, register

        register(
            NavItem(label=_("Home"), url_name="shell:home", order=0, only_without_role_home=True),
            NavItem(
                label=_("Audit trail"),
                url_name="admin:audit_auditevent_changelist",
                roles=OVERSIGHT_ROLES,
                order=90,
            ),
        )
