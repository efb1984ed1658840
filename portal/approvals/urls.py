from django.urls import path

from . import views

app_name = "approvals"

urlpatterns = [
    path("", views.approval_list_view, name="approval-list"),
    path("export.csv", views.approval_list_export, name="approval-list-export"),
    path("<int:approval_id>/", views.approval_detail, name="approval-detail"),
    path("<int:approval_id>/approve/", views.approval_approve_view, name="approval-approve"),
    path("<int:approval_id>/reject/", views.approval_reject_view, name="approval-reject"),
    path("<int:approval_id>/withdraw/", views.approval_withdraw_view, name="approval-withdraw"),
]
