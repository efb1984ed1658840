from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from portal.core.admin import ReadOnlyAdmin

from .actions import action_label, object_type_label
from .models import AuditEvent


class ActionFilter(admin.SimpleListFilter):
    """The actions in the trail by their labels (the codes stay in the URL: `?action=auth.login`)."""

    title = _("action")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        codes = AuditEvent.objects.order_by().values_list("action", flat=True).distinct()
        return sorted(((code, action_label(code)) for code in codes if code), key=lambda pair: str(pair[1]))

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


class ObjectTypeFilter(admin.SimpleListFilter):
    title = _("object type")
    parameter_name = "object_type"

    def lookups(self, request, model_admin):
        types = AuditEvent.objects.order_by().values_list("object_type", flat=True).distinct()
        return sorted(((t, object_type_label(t)) for t in types if t), key=lambda pair: str(pair[1]))

    def queryset(self, request, queryset):
        return queryset.filter(object_type=self.value()) if self.value() else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read-only: nobody, not even a superuser, edits or deletes history. Codes shown as labels."""

    list_display = ["created_at", "actor_label", "action_display", "object_display", "ip", "request_id"]
    list_filter = [ActionFilter, ObjectTypeFilter]
    search_fields = ["actor_label", "object_repr", "object_id", "request_id", "ip"]
    date_hierarchy = "created_at"
    list_select_related = ["actor"]
    readonly_fields = ["action_display", "object_type_display"] + [f.name for f in AuditEvent._meta.fields]

    @admin.display(description=_("action"), ordering="action")
    def action_display(self, obj):
        return action_label(obj.action)

    @admin.display(description=_("object type"), ordering="object_type")
    def object_type_display(self, obj):
        return object_type_label(obj.object_type)

    @admin.display(description=_("object"), ordering="object_repr")
    def object_display(self, obj):
        kind = object_type_label(obj.object_type)
        return f"{kind}: {obj.object_repr}" if kind and obj.object_repr else obj.object_repr or kind
