from django.urls import include, path

from . import views

app_name = "intermediaries"

# The broker workspace. It and the client zone's pages (zone_urls) share one namespace, so the
# app is included once, at the root (portal/urls.py), and sets both prefixes here: two includes
# of one namespace would make URL reversing ambiguous (and `check` warns, urls.W005).
broker_patterns = [
    path("", views.dashboard, name="dashboard"),
    path("clients/", views.client_list_view, name="client-list"),
    path("clients/export.csv", views.client_export, name="client-export"),
    path("clients/<int:client_id>/", views.client_detail, name="client-detail"),
    path("clients/<int:client_id>/performance.json", views.client_performance_data, name="client-performance"),
    path("clients/<int:client_id>/positions/export.csv", views.position_export, {"fmt": "csv"}, name="position-export"),
    path(
        "clients/<int:client_id>/positions/export.pdf",
        views.position_export,
        {"fmt": "pdf"},
        name="position-export-pdf",
    ),
    path("clients/<int:client_id>/transactions/", views.transaction_list_view, name="transaction-list"),
    path(
        "clients/<int:client_id>/transactions/export.csv",
        views.transaction_export,
        {"fmt": "csv"},
        name="transaction-export",
    ),
    path(
        "clients/<int:client_id>/transactions/export.pdf",
        views.transaction_export,
        {"fmt": "pdf"},
        name="transaction-export-pdf",
    ),
    path("clients/<int:client_id>/share/", views.client_share, name="client-share"),
    path("team/", views.team, name="team"),
]

urlpatterns = [
    path("broker/", include(broker_patterns)),
    path("client/portfolio/", include("intermediaries.zone_urls")),
]
