from django.urls import path

from . import views

app_name = "signing-api"

urlpatterns = [
    path("signature-requests/", views.SignatureRequestListView.as_view(), name="request-list"),
    path("signature-requests/<int:request_id>/", views.SignatureRequestDetailView.as_view(), name="request-detail"),
    path(
        "signature-requests/<int:request_id>/cancel/",
        views.SignatureRequestCancelView.as_view(),
        name="request-cancel",
    ),
]
