from django.contrib import admin

from portal.core.admin import ReadOnlyAdmin, RestrictedAdmin

from .models import Report


@admin.register(Report)
class ReportAdmin(RestrictedAdmin, ReadOnlyAdmin):
    """Back office sees every report request and its outcome; reports are requested on the portal page."""

    list_display = ["created_at", "kind", "requested_by", "client", "broker", "period_start", "period_end", "status"]
    list_filter = ["kind", "status"]
    list_select_related = ["requested_by", "client", "broker"]
    search_fields = ["requested_by__email", "client__number", "broker__email", "inputs_hash"]
    readonly_fields = [f.name for f in Report._meta.fields]
