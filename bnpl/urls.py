from django.urls import path

from .merchant_views import (
    order_list_export,
    order_list_view,
    secret_rotate_view,
    settings_view,
    webhook_list_view,
    webhook_resend_view,
)
from .tracking_webhook import shippo_webhook

app_name = "bnpl"

urlpatterns = [
    path("webhooks/shippo/", shippo_webhook, name="shippo-webhook"),
    path("merchant/", order_list_view, name="merchant-orders"),
    path("merchant/orders.csv", order_list_export, name="merchant-orders-export"),
    path("merchant/webhooks/", webhook_list_view, name="merchant-webhooks"),
    path("merchant/webhooks/<int:delivery_id>/resend/", webhook_resend_view, name="merchant-webhook-resend"),
    path("merchant/settings/", settings_view, name="merchant-settings"),
    path("merchant/settings/secret/", secret_rotate_view, name="merchant-secret-rotate"),
]
