from django.urls import path

from .fees_views import fees_page
from .tracking_webhook import shippo_webhook

app_name = "bnpl"

urlpatterns = [
    path("webhooks/shippo/", shippo_webhook, name="shippo-webhook"),
    path("fees/", fees_page, name="fees"),
]
