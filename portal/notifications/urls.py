from django.http import HttpResponse
from django.urls import path

app_name = "notifications"
urlpatterns = [
    path("", lambda r: HttpResponse("list"), name="list"),
    path("dev-outbox/", lambda r: HttpResponse("outbox"), name="dev-outbox"),
]
