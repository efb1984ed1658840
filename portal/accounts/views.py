# Placeholder while the 2FA pages are being written in this session.
from django.http import HttpResponse


def security(request):
    return HttpResponse("security")


def two_factor_setup(request):
    return HttpResponse("setup")


def two_factor_verify(request):
    return HttpResponse("verify")
