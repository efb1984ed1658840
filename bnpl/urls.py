from django.urls import path

from .tracking_webhook import shippo_webhook

app_name = "bnpl"

urlpatterns = [
    path("webhooks/shippo/", shippo_webhook, name="shippo-webhook"),
]
