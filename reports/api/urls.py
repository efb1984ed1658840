from django.urls import path

from . import views

app_name = "reports-api"

urlpatterns = [
    path("reports/", views.ReportListView.as_view(), name="report-list"),
    path("reports/<int:report_id>/", views.ReportDetailView.as_view(), name="report-detail"),
    path("reports/<int:report_id>/download/", views.ReportDownloadView.as_view(), name="report-download"),
]
