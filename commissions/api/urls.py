from django.urls import path

from . import views

app_name = "commissions-api"

urlpatterns = [
    path("commissions/", views.StatementListView.as_view(), name="statement-list"),
    path("commissions/<int:statement_id>/", views.StatementDetailView.as_view(), name="statement-detail"),
    path("commissions/<int:statement_id>/pdf/", views.StatementPdfView.as_view(), name="statement-pdf"),
    path("commissions/accruals/", views.AccrualListView.as_view(), name="accrual-list"),
    path("commissions/accruals/<int:accrual_id>/", views.AccrualDetailView.as_view(), name="accrual-detail"),
]
