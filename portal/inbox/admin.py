from django.contrib import admin

from portal.core.admin import ReadOnlyAdmin, RestrictedAdmin

from .models import WorkItem


@admin.register(WorkItem)
class WorkItemAdmin(RestrictedAdmin, ReadOnlyAdmin):
    """Staff read the items they see (the inbox's policy); they are written by the owning apps and the inbox page."""

    list_display = ("subject", "kind", "party", "queue", "opened_at", "due_at", "assignee", "closed_at")
    list_filter = ("kind", "closed_at")
    list_select_related = ("assignee",)
    search_fields = ("subject", "party")
    date_hierarchy = "opened_at"
