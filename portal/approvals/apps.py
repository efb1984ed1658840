from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApprovalsConfig(AppConfig):
    """Four-eyes approvals attached to any object, with a policy per kind registered by its app."""

    name = "portal.approvals"
    label = "approvals"
    verbose_name = _("Approvals")

    def ready(self):
        from django.db.models.signals import post_migrate

        from portal.api.scopes import register_scope_group
        from portal.audit.actions import register_actions
        from portal.core.navigation import NavItem, register
        from portal.evidence.registry import register_evidence_section
        from portal.notifications.registry import EMAIL, IN_APP, register_event

        from . import permissions  # noqa: F401  (registers the Approval policy)
        from .evidence import approvals_section
        from .roles import STAFF_ROLES, staff_permissions_grant

        register(
            NavItem(
                label=_("Approvals"),
                url_name="approvals:approval-list",
                roles=frozenset(STAFF_ROLES),
                staff_only=True,
                order=15,
                active_for=frozenset({"approvals:approval-detail"}),
            )
        )
        register_scope_group(
            "approvals",
            _("Approvals"),
            description=_("Cases waiting for a second person's decision: list, approve, reject"),
            order=15,
        )
        register_actions(
            {
                "approvals.requested": _("Approval requested"),
                "approvals.approval_recorded": _("Approval given (more approvers needed)"),
                "approvals.approved": _("Approval granted"),
                "approvals.rejected": _("Approval rejected"),
                "approvals.withdrawn": _("Approval request withdrawn"),
                "approvals.expired": _("Approval request expired"),
            }
        )
        register_event(
            "approvals.requested",
            _("A case waits for your approval"),
            default_channels={IN_APP, EMAIL},
            description=_("When someone asks for an approval that you may give."),
        )
        register_event(
            "approvals.decided",
            _("Your case was decided"),
            default_channels={IN_APP, EMAIL},
            description=_("When a case you asked to approve is approved, rejected or expires."),
        )
        register_evidence_section("approvals", approvals_section, order=30)
        post_migrate.connect(staff_permissions_grant, sender=self, dispatch_uid="approvals.staff_permissions")
