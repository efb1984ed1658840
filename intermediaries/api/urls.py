from django.urls import path

from . import views

app_name = "intermediaries-api"

urlpatterns = [
    path("clients/", views.ClientListView.as_view(), name="client-list"),
    path("clients/<int:client_id>/", views.ClientDetailView.as_view(), name="client-detail"),
    path("clients/<int:client_id>/portfolios/", views.ClientPortfolioListView.as_view(), name="client-portfolios"),
    path("clients/<int:client_id>/positions/", views.ClientPositionListView.as_view(), name="client-positions"),
    path(
        "clients/<int:client_id>/transactions/", views.ClientTransactionListView.as_view(), name="client-transactions"
    ),
    path("clients/<int:client_id>/performance/", views.ClientPerformanceView.as_view(), name="client-performance"),
    path("dashboard/", views.DashboardView.as_view(), name="dashboard"),
]
