"""The portal's URLs plus one trivial view: the framework floor the benchmark compares against.

The floor runs the same middleware (session, auth, 2FA, audit context) and one indexed query,
so the ratio page/floor shows what the page itself costs.
"""

from django.contrib.auth import get_user_model
from django.http import HttpResponse
from django.urls import path

from portal.urls import handler403, handler404, handler500  # noqa: F401
from portal.urls import urlpatterns as portal_urlpatterns


def floor(request):
    exists = get_user_model().objects.filter(pk=request.user.pk).exists()
    return HttpResponse("ok" if exists else "anonymous", content_type="text/plain")


urlpatterns = [path("bench/floor/", floor), *portal_urlpatterns]
