from django.urls import path

from . import checkout_views, decision_views
from .fees_views import fees_page
from .merchant_views import (
    order_list_export,
    order_list_view,
    secret_rotate_view,
    settings_view,
    webhook_list_view,
    webhook_resend_view,
)
from .schedule_pdf import plan_schedule_pdf
from .tracking_webhook import shippo_webhook

app_name = "bnpl"

urlpatterns = [
    path("checkout/<str:token>/", checkout_views.checkout_page, name="checkout"),
    path("checkout/<str:token>/agreement.pdf", checkout_views.checkout_agreement_pdf, name="checkout-agreement-pdf"),
    path("webhooks/shippo/", shippo_webhook, name="shippo-webhook"),
    path("rules/", decision_views.credit_rule_list, name="credit-rules"),
    path("rules/combine/", decision_views.credit_rules_combine, name="credit-rules-combine"),
    path("rules/<int:rule_id>/", decision_views.credit_rule_list, name="credit-rule-edit"),
    path("rules/<int:rule_id>/toggle/", decision_views.credit_rule_toggle, name="credit-rule-toggle"),
    path("shoppers/<int:shopper_id>/limit/", decision_views.shopper_limit, name="shopper-limit"),
    path("reviews/", decision_views.review_list, name="review-list"),
    path("reviews/<int:order_id>/", decision_views.review_detail, name="review-detail"),
    path("fees/", fees_page, name="fees"),
    path("plans/<int:plan_id>/schedule.pdf", plan_schedule_pdf, name="plan-schedule-pdf"),
    path("merchant/", order_list_view, name="merchant-orders"),
    path("merchant/orders.csv", order_list_export, name="merchant-orders-export"),
    path("merchant/webhooks/", webhook_list_view, name="merchant-webhooks"),
    path("merchant/webhooks/<int:delivery_id>/resend/", webhook_resend_view, name="merchant-webhook-resend"),
    path("merchant/settings/", settings_view, name="merchant-settings"),
    path("merchant/settings/secret/", secret_rotate_view, name="merchant-secret-rotate"),
]
