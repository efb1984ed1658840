from django.urls import path

from . import views

app_name = "intermediaries"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("clients/", views.client_list_view, name="client-list"),
    path("clients/export.csv", views.client_export, name="client-export"),
    path("clients/<int:client_id>/", views.client_detail, name="client-detail"),
    path("clients/<int:client_id>/performance.json", views.client_performance_data, name="client-performance"),
    path("clients/<int:client_id>/transactions/", views.transaction_list_view, name="transaction-list"),
    path("clients/<int:client_id>/transactions/export.csv", views.transaction_export, name="transaction-export"),
    path("clients/<int:client_id>/share/", views.client_share, name="client-share"),
    path("team/", views.team, name="team"),
]
