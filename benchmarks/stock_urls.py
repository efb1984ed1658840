"""The stock Django floor: one view, one indexed query (a content type by primary key)."""

from django.contrib.contenttypes.models import ContentType
from django.http import HttpResponse
from django.urls import path


def floor(request):
    exists = ContentType.objects.filter(pk=1).exists()
    return HttpResponse("ok" if exists else "empty", content_type="text/plain")


urlpatterns = [path("bench/floor/", floor)]
