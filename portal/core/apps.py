from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "portal.core"
    label = "core"
    verbose_name = _("Portal core")

    def ready(self):
        from portal.accounts.roles import Role

        from .navigation import NavItem, register

        register(
            NavItem(label=_("Home"), url_name="core:home", order=0, only_without_role_home=True),
            NavItem(
                label=_("Audit trail"),
                url_name="admin:audit_auditevent_changelist",
                roles=frozenset({Role.BACKOFFICE, Role.COMPLIANCE}),
                order=90,
            ),
        )
