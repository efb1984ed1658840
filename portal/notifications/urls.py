from django.urls import path

from . import views

app_name = "notifications"
urlpatterns = [
    path("", views.notification_list, name="list"),
    path("unread/", views.notification_unread_menu, name="unread-menu"),
    path("<int:notification_id>/read/", views.notification_mark_read, name="mark-read"),
    path("read-all/", views.notification_mark_all_read, name="mark-all-read"),
    path("preferences/", views.preferences, name="preferences"),
    path("dev-outbox/", views.dev_outbox, name="dev-outbox"),
    path(
        "dev-outbox/<int:message_id>/attachments/<int:attachment_id>/",
        views.dev_outbox_attachment,
        name="dev-outbox-attachment",
    ),
]
