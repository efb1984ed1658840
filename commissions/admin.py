"""Back office keeps plans and runs the payout here. Rules are dated rows: a change is a new row
from a day on; a row that accruals used can no longer be edited, so past accruals keep their rate."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from portal.accounts.two_factor import second_factor_state
from portal.approvals.admin_actions import reject_with_reason, run_for_each
from portal.core.admin import ReadOnlyAdmin, RestrictedAdmin

from . import services
from .models import Accrual, CommissionMonth, CommissionPlan, CommissionRule, Statement
from .permissions import can_operate_payouts


class CommissionRuleInline(admin.TabularInline):
    """Existing rows are shown read-only: dated changes are added as new rows."""

    model = CommissionRule
    extra = 1
    fields = ["kind", "asset_class", "instrument", "event", "rate", "amount", "valid_from"]
    raw_id_fields = ["instrument"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CommissionPlan)
class CommissionPlanAdmin(admin.ModelAdmin):
    list_display = ["name", "scope_key", "firm", "broker", "override_manager"]
    list_select_related = ["firm", "broker", "override_manager"]
    search_fields = ["name", "firm__name", "broker__email"]
    raw_id_fields = ["broker", "override_manager"]
    inlines = [CommissionRuleInline]


@admin.register(CommissionRule)
class CommissionRuleAdmin(admin.ModelAdmin):
    list_display = ["plan", "kind", "asset_class", "instrument", "event", "rate", "amount", "valid_from"]
    list_filter = ["kind", "plan", "asset_class"]
    list_select_related = ["plan", "instrument"]
    raw_id_fields = ["instrument"]

    def has_change_permission(self, request, obj=None):
        if obj is not None and Accrual.objects.filter(rule=obj).exists():
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and Accrual.objects.filter(rule=obj).exists():
            return False
        return super().has_delete_permission(request, obj)


@admin.register(CommissionMonth)
class CommissionMonthAdmin(admin.ModelAdmin):
    list_display = ["period", "status", "last_accrued_at", "closed_at", "closed_by"]
    list_filter = ["status"]
    readonly_fields = ["period", "status", "last_accrued_at", "closed_at", "closed_by"]
    actions = ["accrue_now", "close_months"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Compute the accruals of the selected months now"))
    def accrue_now(self, request, queryset):
        from .tasks import commissions_accrue

        for month in queryset.filter(status=CommissionMonth.Status.OPEN):
            commissions_accrue.delay(month.period.isoformat())
        self.message_user(request, _("Accrual runs queued."), messages.SUCCESS)

    @admin.action(description=_("Close the selected months and prepare their statements"))
    def close_months(self, request, queryset):
        from .tasks import commissions_month_close

        for month in queryset:
            try:
                services.month_close_start(actor=request.user, period=month.period)
            except (ValidationError, PermissionDenied) as error:
                self.message_user(
                    request, f"{month}: {' '.join(getattr(error, 'messages', [str(error)]))}", messages.ERROR
                )
                continue
            commissions_month_close.delay(month.period.isoformat())
            self.message_user(
                request, _("%(month)s is closing; statements follow.") % {"month": month}, messages.SUCCESS
            )


@admin.register(Statement)
class StatementAdmin(RestrictedAdmin):
    """Approve or reject (never the preparer: four eyes, through the approval engine) and mark paid, all
    with a verified second factor; prepare a rejected statement again."""

    list_display = ["period", "beneficiary", "firm", "total", "status", "prepared_by", "approved_by", "paid_at"]
    list_filter = ["status", "period", "firm"]
    list_select_related = ["beneficiary", "firm", "prepared_by", "approved_by"]
    search_fields = ["beneficiary__email", "beneficiary__last_name", "payment_reference"]
    readonly_fields = [f.name for f in Statement._meta.fields]
    actions = ["approve", "reject", "resubmit", "mark_paid"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        # Said before the click: approving and paying out need a second factor (set up or entered).
        if can_operate_payouts(request.user):
            extra_context = {
                **(extra_context or {}),
                "second_factor": second_factor_state(request.user),
                "second_factor_for": _("Approving or paying out a commission statement"),
            }
        return super().changelist_view(request, extra_context=extra_context)

    def _run(self, request, queryset, service, done_message):
        run_for_each(
            self,
            request,
            queryset,
            lambda statement, verified: service(
                actor=request.user, statement_id=statement.pk, second_factor_verified=verified
            ),
            done_message,
        )

    @admin.action(description=_("Approve the selected statements (four eyes; needs a second factor)"))
    def approve(self, request, queryset):
        self._run(
            request,
            queryset,
            services.statement_approve,
            lambda n: ngettext("%d statement approved.", "%d statements approved.", n) % n,
        )

    @admin.action(description=_("Reject the selected statements (asks for a reason; needs a second factor)"))
    def reject(self, request, queryset):
        return reject_with_reason(
            self,
            request,
            queryset,
            action="reject",
            reject=lambda statement, reason, verified: services.statement_reject(
                actor=request.user, statement_id=statement.pk, reason=reason, second_factor_verified=verified
            ),
        )

    @admin.action(description=_("Prepare the selected rejected statements again (asks for a new approval)"))
    def resubmit(self, request, queryset):
        run_for_each(
            self,
            request,
            queryset,
            lambda statement, verified: services.statement_resubmit(actor=request.user, statement_id=statement.pk),
            lambda n: ngettext("%d statement prepared again.", "%d statements prepared again.", n) % n,
        )

    @admin.action(description=_("Mark the selected statements paid (needs a second factor)"))
    def mark_paid(self, request, queryset):
        self._run(
            request,
            queryset,
            services.statement_mark_paid,
            lambda n: ngettext("%d statement marked paid.", "%d statements marked paid.", n) % n,
        )


@admin.register(Accrual)
class AccrualAdmin(RestrictedAdmin, ReadOnlyAdmin):
    list_display = ["date", "beneficiary", "kind", "client", "amount", "source_key"]
    list_filter = ["kind", "period"]
    list_select_related = ["beneficiary", "client"]
    search_fields = ["beneficiary__email", "client__number", "source_key"]
    readonly_fields = [f.name for f in Accrual._meta.fields]
    show_full_result_count = False
