"""The client zone's URLs, under /client/ (namespace `clients`)."""

from django.urls import include, path

app_name = "clients"

urlpatterns = [
    path("profile/", include("clients.profile_urls")),
]
