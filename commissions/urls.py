from django.urls import path

from . import views

app_name = "commissions"

urlpatterns = [
    path("", views.statement_list_view, name="statement-list"),
    path("export.csv", views.statement_list_export, name="statement-list-export"),
    path("<int:statement_id>/", views.statement_detail, name="statement-detail"),
    path("<int:statement_id>/export.csv", views.statement_export, name="statement-export"),
    path("<int:statement_id>/statement.pdf", views.statement_pdf, name="statement-pdf"),
    path("entries/<int:accrual_id>/", views.accrual_detail, name="accrual-detail"),
]
