from django.urls import path

from . import views

app_name = "evidence"

urlpatterns = [
    path("<int:content_type_id>/<int:object_id>/", views.pack_request, name="pack-request"),
    path("packs/<int:pack_id>/", views.pack_detail, name="pack-detail"),
    path("packs/<int:pack_id>/download/", views.pack_download, name="pack-download"),
]
