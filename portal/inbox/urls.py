from django.urls import path

from . import views

app_name = "inbox"

urlpatterns = [
    path("", views.inbox_list, name="list"),
    path("export.csv", views.inbox_export, name="export"),
    path("items/<int:item_id>/claim/", views.item_claim, name="item-claim"),
    path("items/<int:item_id>/assign/", views.item_assign, name="item-assign"),
    path("items/<int:item_id>/release/", views.item_release, name="item-release"),
]
