from django.urls import include, path

from . import views

app_name = "clients"

# The client zone, at /client/ (signing's "Documents to sign" is mounted at /client/sign/).
urlpatterns = [
    path("", views.home, name="home"),
    path("documents/", views.documents, name="documents"),
    path("adviser/", views.adviser, name="adviser"),
    path("profile/", include("clients.profile_urls")),
]
