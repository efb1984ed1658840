from django.contrib import admin

from portal.accounts.roles import Role
from portal.core.admin import ReadOnlyAdmin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read-only: nobody, not even a superuser, edits or deletes history."""

    list_display = ["created_at", "actor_label", "action", "object_type", "object_repr", "ip", "request_id"]
    list_filter = ["action", "object_type"]
    search_fields = ["actor_label", "object_repr", "object_id", "request_id", "ip"]
    date_hierarchy = "created_at"
    list_select_related = ["actor"]
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    # The roles whose menu has "Audit trail" (portal.core.apps) read it here; roles carry no model permissions.
    def has_module_permission(self, request):
        user = request.user
        return (
            user.is_active and user.is_staff and (user.is_superuser or user.has_role(Role.BACKOFFICE, Role.COMPLIANCE))
        )

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)
