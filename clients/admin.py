from django.contrib import admin
from guardian.admin import GuardedModelAdmin

from portal.core.admin import RestrictedAdmin

from .models import Client


@admin.register(Client)
class ClientAdmin(RestrictedAdmin, GuardedModelAdmin):
    list_display = ["number", "last_name", "first_name", "status", "advisor", "assets", "assets_currency"]
    list_filter = ["status"]
    search_fields = ["number", "last_name", "first_name", "email"]
    list_select_related = ["advisor"]
    raw_id_fields = ["advisor", "user"]
    readonly_fields = ["assets", "assets_currency", "created_at", "updated_at"]
