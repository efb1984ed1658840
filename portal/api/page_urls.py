from django.urls import path

from . import pages

app_name = "api_keys"

urlpatterns = [
    path("", pages.key_list, name="key-list"),
    path("new/", pages.key_create, name="key-create"),
    path("<int:key_id>/rotate/", pages.key_rotate, name="key-rotate"),
    path("<int:key_id>/revoke/", pages.key_revoke, name="key-revoke"),
]
