from django.urls import path

from . import views

app_name = "threads"

# Mounted at /threads/. The object is named by its content type and id; the registry's kind for it
# decides access (a foreign or unknown object answers 404).
urlpatterns = [
    path("<int:content_type_id>/<int:object_id>/messages/", views.thread_messages_view, name="messages"),
    path(
        "<int:content_type_id>/<int:object_id>/attachments/<int:attachment_id>/",
        views.attachment_download,
        name="attachment-download",
    ),
]
