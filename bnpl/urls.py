from django.urls import path

from . import button_views, checkout_views, collection_views, decision_views
from .demo_shop import demo_shop, demo_shop_thanks
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
    path("collections/", collection_views.collections_page, name="collections"),
    path("collections/runs/prepare/", collection_views.collection_run_prepare_view, name="collection-run-prepare"),
    path("collections/runs/<int:run_id>/", collection_views.collection_run_detail, name="collection-run"),
    path(
        "collections/runs/<int:run_id>/pain008.xml",
        collection_views.collection_run_download,
        name="collection-run-file",
    ),
    path(
        "collections/runs/<int:run_id>/cancel/",
        collection_views.collection_run_cancel_view,
        name="collection-run-cancel",
    ),
    path("collections/statements/", collection_views.statement_upload, name="statement-upload"),
    path("collections/statements/<int:statement_id>/", collection_views.statement_detail, name="statement"),
    path("collections/lines/<int:line_id>/", collection_views.statement_line_page, name="statement-line"),
    path("collections/demo-statement.xml", collection_views.demo_statement_download, name="demo-statement"),
    path("collections/demo-statement/import/", collection_views.demo_statement_import, name="demo-statement-import"),
    path("disputes/<int:order_id>/", collection_views.dispute_page, name="dispute"),
    path("plans/<int:plan_id>/schedule.pdf", plan_schedule_pdf, name="plan-schedule-pdf"),
    path("demo-shop/", demo_shop, name="demo-shop"),
    path("demo-shop/thanks/", demo_shop_thanks, name="demo-shop-thanks"),
    path("merchant/", order_list_view, name="merchant-orders"),
    path("merchant/orders.csv", order_list_export, name="merchant-orders-export"),
    path("merchant/webhooks/", webhook_list_view, name="merchant-webhooks"),
    path("merchant/webhooks/<int:delivery_id>/resend/", webhook_resend_view, name="merchant-webhook-resend"),
    path("merchant/settings/", settings_view, name="merchant-settings"),
    path("merchant/settings/secret/", secret_rotate_view, name="merchant-secret-rotate"),
    path("merchant/buttons/", button_views.button_list_view, name="merchant-buttons"),
    path("merchant/buttons/new/", button_views.button_create_view, name="merchant-button-new"),
    path("merchant/buttons/<int:button_id>/", button_views.button_edit_view, name="merchant-button-edit"),
    path("merchant/buttons/<int:button_id>/toggle/", button_views.button_toggle_view, name="merchant-button-toggle"),
    path("merchant/confirmations/", button_views.confirmation_list_view, name="merchant-confirmations"),
    path("buy/<str:key>/", button_views.buy_view, name="buy"),
]
