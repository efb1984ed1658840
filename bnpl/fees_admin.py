"""The fee module in admin: read only. Schedules, groups and rules are kept on /bnpl/fees/ (services
with audit); fees and status changes are written only by bnpl.fees."""

from django.contrib import admin

from portal.core.admin import RestrictedAdmin

from .models import CustomerGroup, FeeCharge, FeeSchedule, FeeStatus, FeeStatusChange, FeeStatusRule


class ReadOnlyAdmin(RestrictedAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CustomerGroup)
class CustomerGroupAdmin(ReadOnlyAdmin):
    list_display = ["name", "description", "created_at"]
    search_fields = ["name"]


@admin.register(FeeSchedule)
class FeeScheduleAdmin(ReadOnlyAdmin):
    list_display = ["scope", "target_label", "currency", "late_fee_amount", "grace_days", "active", "valid_from"]
    list_filter = ["scope", "currency", "active"]
    list_select_related = ["shopper__user", "group"]


@admin.register(FeeStatusRule)
class FeeStatusRuleAdmin(ReadOnlyAdmin):
    list_display = ["position", "name", "condition", "days", "threshold", "status", "active"]


@admin.register(FeeStatus)
class FeeStatusAdmin(ReadOnlyAdmin):
    list_display = ["shopper", "status", "since", "reason"]
    list_filter = ["status"]
    list_select_related = ["shopper__user"]
    search_fields = ["shopper__user__email"]


@admin.register(FeeStatusChange)
class FeeStatusChangeAdmin(ReadOnlyAdmin):
    list_display = ["shopper", "from_status", "to_status", "reason", "at"]
    list_select_related = ["shopper__user"]
    search_fields = ["shopper__user__email"]


@admin.register(FeeCharge)
class FeeChargeAdmin(ReadOnlyAdmin):
    list_display = ["instalment", "kind", "amount", "currency", "charged_at", "reason"]
    list_filter = ["kind", "currency"]
    list_select_related = ["instalment__plan__order"]
