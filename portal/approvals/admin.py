"""Approvals in admin: read-only rows (state and decisions change only through the services) with
approve and reject actions that call the same services as the pages and the API."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from portal.core.admin import RestrictedAdmin

from . import services
from .admin_actions import reject_with_reason, run_for_each
from .models import Approval, ApprovalDecision


class ApprovalDecisionInline(admin.TabularInline):
    model = ApprovalDecision
    extra = 0
    fields = ["outcome", "actor", "at", "ip", "reason"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Approval)
class ApprovalAdmin(RestrictedAdmin):
    list_display = ["subject", "kind", "maker", "state", "requested_at", "due_at", "decided_at"]
    list_filter = ["state", "kind"]
    list_select_related = ["maker"]
    search_fields = ["subject", "party", "maker__email"]
    readonly_fields = [f.name for f in Approval._meta.concrete_fields]
    inlines = [ApprovalDecisionInline]
    actions = ["approve", "reject"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # Nothing of an approval is edited by hand: a change form that could be saved could flip the state.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Approve the selected approvals"), permissions=["view"])
    def approve(self, request, queryset):
        run_for_each(
            self,
            request,
            queryset,
            lambda approval, verified: services.approval_approve(
                actor=request.user, approval_id=approval.pk, second_factor_verified=verified
            ),
            lambda n: ngettext("%d approval given.", "%d approvals given.", n) % n,
        )

    @admin.action(description=_("Reject the selected approvals (asks for a reason)"), permissions=["view"])
    def reject(self, request, queryset):
        return reject_with_reason(
            self,
            request,
            queryset,
            action="reject",
            reject=lambda approval, reason, verified: services.approval_reject(
                actor=request.user, approval_id=approval.pk, reason=reason, second_factor_verified=verified
            ),
        )
