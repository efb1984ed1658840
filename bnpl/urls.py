from django.urls import path

from .schedule_pdf import plan_schedule_pdf
from .tracking_webhook import shippo_webhook

app_name = "bnpl"

urlpatterns = [
    path("webhooks/shippo/", shippo_webhook, name="shippo-webhook"),
    path("plans/<int:plan_id>/schedule.pdf", plan_schedule_pdf, name="plan-schedule-pdf"),
]
