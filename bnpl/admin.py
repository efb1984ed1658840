"""Back office reads bnpl here and keeps merchants and shopper profiles.

Money is never edited in admin: amounts, refunds, rates and schedules change only through the
services (capture, refund, ship …), which keep the plan, the audit trail and the merchant's
webhooks in step. Orders, plans and sessions are never deleted: they are the credit record.
"""

from django.contrib import admin, messages
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.core.admin import RestrictedAdmin

from . import services
from .models import (
    BuyButton,
    CreditAgreement,
    Instalment,
    Merchant,
    MerchantConfirmation,
    Order,
    OrderLine,
    PaymentSession,
    Plan,
    SepaMandate,
    ShippingOption,
    Shopper,
)
from .models.webhooks import WebhookAttempt, WebhookDelivery


class NoDeleteAdmin(RestrictedAdmin):
    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(NoDeleteAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReadOnlyLines(admin.TabularInline):
    model = OrderLine
    fields = ["position", "name", "quantity", "unit_price", "tax_rate", "line_total"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class SessionLines(ReadOnlyLines):
    fk_name = "session"


class OrderLines(ReadOnlyLines):
    fk_name = "order"


@admin.register(Merchant)
class MerchantAdmin(NoDeleteAdmin):
    list_display = ["trading_name", "organisation", "default_currency", "active", "webhook_url", "created_at"]
    list_filter = ["active", "default_currency"]
    list_select_related = ["organisation"]
    search_fields = ["trading_name", "organisation__name"]
    fields = ["organisation", "trading_name", "webhook_url", "webhook_secret_prefix", "default_currency", "active"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_readonly_fields(self, request, obj=None):
        # The secret is made by the service and shown once; the organisation never changes.
        return ["webhook_secret_prefix", "organisation"] if obj is not None else ["webhook_secret_prefix"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        # The form offers only merchant organisations and supported currencies, as the service requires.
        merchant, secret = services.merchant_create(
            actor=request.user,
            organisation=obj.organisation,
            trading_name=obj.trading_name,
            webhook_url=obj.webhook_url,
            default_currency=obj.default_currency,
        )
        for field in ("pk", "webhook_secret_sealed", "webhook_secret_prefix", "created_at", "active"):
            setattr(obj, field, getattr(merchant, field))
        messages.warning(
            request,
            _("The webhook secret, shown only now — give it to the merchant: %(secret)s") % {"secret": secret},
        )


@admin.register(Shopper)
class ShopperAdmin(NoDeleteAdmin):
    list_display = ["user", "region", "purchase_limit", "purchase_limit_currency", "kyc_passed", "created_at"]
    list_filter = ["kyc_passed", "region"]
    list_select_related = ["user"]
    search_fields = ["user__email", "user__last_name"]
    raw_id_fields = ["user"]


@admin.register(PaymentSession)
class PaymentSessionAdmin(NoDeleteAdmin):
    list_display = ["reference", "merchant", "amount", "currency", "shopper_email", "state", "expires_at"]
    list_filter = ["state", "currency"]
    list_select_related = ["merchant"]
    search_fields = ["reference", "shopper_email"]
    exclude = ["token"]  # the checkout's bearer secret stays out of admin pages
    readonly_fields = [
        "merchant",
        "amount",
        "currency",
        "shopper_email",
        "locale",
        "reference",
        "return_url",
        "state",
        "expires_at",
        "created_at",
        "created_by",
    ]
    inlines = [SessionLines]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CreditAgreement)
class CreditAgreementAdmin(NoDeleteAdmin):
    """What a shopper signed (or was about to) at the checkout: read only, the credit record."""

    list_display = ["session", "shopper", "option_key", "signature_request", "updated_at"]
    list_select_related = ["session", "shopper__user", "signature_request"]
    search_fields = ["session__reference", "shopper__user__email"]
    readonly_fields = [
        "session",
        "shopper",
        "option_key",
        "content",
        "content_hash",
        "signature_request",
        "created_at",
        "updated_at",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(NoDeleteAdmin):
    list_display = ["reference", "merchant", "shopper", "amount", "currency", "state", "option_key", "created_at"]
    list_filter = ["state", "currency", "merchant"]
    list_select_related = ["merchant", "shopper__user"]
    search_fields = ["reference", "shopper__user__email", "tracking_number"]
    readonly_fields = [
        "merchant",
        "shopper",
        "session",
        "reference",
        "amount",
        "currency",
        "refunded_amount",
        "state",
        "option_key",
        "shipped_at",
        "created_at",
        "updated_at",
    ]
    inlines = [OrderLines]

    def has_add_permission(self, request):
        return False


class InstalmentInline(admin.TabularInline):
    model = Instalment
    fields = ["number", "due_date", "amount", "principal", "interest", "paid_amount", "state"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Plan)
class PlanAdmin(NoDeleteAdmin):
    list_display = ["order", "option_key", "state", "total_payable", "currency", "apr", "start_date"]
    list_filter = ["state", "option_key", "currency"]
    list_select_related = ["order"]
    search_fields = ["order__reference"]
    readonly_fields = [
        "order",
        "option_key",
        "nominal_rate",
        "apr",
        "total_payable",
        "total_cost_of_credit",
        "currency",
        "state",
        "start_date",
        "created_at",
    ]
    inlines = [InstalmentInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


from . import decisions_admin, fees_admin  # noqa: E402, F401  (the decision and fee modules' admin pages)


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ["at", "url", "status_code", "duration_ms", "error"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(NoDeleteAdmin):
    """Read only: a webhook is sent again by its merchant from the dashboard (audited), never edited."""

    list_display = ["id", "merchant", "event", "state", "attempts", "last_status_code", "created_at"]
    list_filter = ["state", "event", "merchant"]
    list_select_related = ["merchant"]
    search_fields = ["id", "order__reference"]
    readonly_fields = [
        "merchant",
        "event",
        "order",
        "payload",
        "created_at",
        "state",
        "attempts",
        "give_up_after",
        "next_attempt_at",
        "claimed_at",
        "delivered_at",
        "last_status_code",
        "last_error",
    ]
    inlines = [WebhookAttemptInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SepaMandate)
class SepaMandateAdmin(ReadOnlyAdmin):
    """Read only: only the shopper grants or revokes a mandate (bnpl/mandates.py); the IBAN shows masked."""

    list_display = ["reference", "shopper", "account_holder", "masked_iban", "state", "signed_at", "revoked_at"]
    list_filter = ["state"]
    list_select_related = ["shopper__user"]
    search_fields = ["reference", "account_holder", "shopper__user__email"]
    fields = ["reference", "shopper", "account_holder", "masked_iban", "bic", "state", "signed_at", "revoked_at"]
    readonly_fields = fields

    @admin.display(description=_("IBAN"))
    def masked_iban(self, mandate):
        return mandate.masked_iban


class ShippingOptionInline(admin.TabularInline):
    model = ShippingOption
    fields = ["position", "name", "price"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(BuyButton)
class BuyButtonAdmin(ReadOnlyAdmin):
    """Read only: a merchant's people keep their buttons in the dashboard or the API (audited)."""

    list_display = ["name", "merchant", "unit_price", "currency", "active", "created_at"]
    list_filter = ["active", "currency", "merchant"]
    list_select_related = ["merchant"]
    search_fields = ["name", "key"]
    readonly_fields = ["merchant", "key", "name", "description", "image_url", "unit_price", "currency", "tax_rate"]
    fields = [*readonly_fields, "active"]
    inlines = [ShippingOptionInline]


@admin.register(MerchantConfirmation)
class MerchantConfirmationAdmin(ReadOnlyAdmin):
    """Every time a shop's server was asked to confirm an instant purchase, and what it answered."""

    list_display = ["at", "merchant", "session", "outcome", "status_code", "duration_ms"]
    list_filter = ["outcome", "merchant"]
    list_select_related = ["merchant", "session"]
    search_fields = ["session__reference", "merchant_order_id"]
    readonly_fields = [
        "merchant",
        "session",
        "at",
        "url",
        "outcome",
        "status_code",
        "reason",
        "merchant_order_id",
        "duration_ms",
    ]
