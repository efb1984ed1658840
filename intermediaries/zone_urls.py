"""The client zone's portfolio pages, under /client/portfolio/ (names in the `intermediaries` namespace)."""

from django.urls import path

from . import zone_views

urlpatterns = [
    path("", zone_views.positions, name="zone-positions"),
    path("<int:portfolio_id>/", zone_views.positions, name="zone-portfolio"),
    path("positions/export.<str:fmt>", zone_views.positions_export, name="zone-positions-export"),
    path("transactions/", zone_views.transactions, name="zone-transactions"),
    path("transactions/export.<str:fmt>", zone_views.transactions_export, name="zone-transactions-export"),
    path("performance/", zone_views.performance, name="zone-performance"),
]
