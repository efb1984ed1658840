"""The profile's pages, mounted under the client zone's URLs (`clients:profile…`)."""

from django.urls import path

from . import profile_views as views

urlpatterns = [
    path("", views.profile, name="profile"),
    path("contact/", views.contact_update, name="profile-contact"),
    path("mobile/", views.mobile_change, name="profile-mobile"),
    path("mobile/code/", views.mobile_code_send, name="profile-mobile-code"),
    path("mobile/verify/", views.mobile_verify, name="profile-mobile-verify"),
    path("mobile/status/", views.mobile_status, name="profile-mobile-status"),
    path("sessions/end-others/", views.sessions_end_others, name="profile-sessions-end"),
    path("my-data/", views.export_request, name="profile-export"),
    path("my-data/status/", views.export_status, name="profile-export-status"),
    path("my-data/<int:export_id>/download/", views.export_download, name="profile-export-download"),
]
