from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.report_list_view, name="report-list"),
    path("request/", views.report_request_view, name="report-request"),
    path("<int:report_id>/download/", views.report_download, name="report-download"),
    path("clients/", views.report_client_search, name="client-search"),
    path("statements/<int:report_id>/download/", views.statement_download, name="statement-download"),
]
