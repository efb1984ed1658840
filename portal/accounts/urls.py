from django.urls import path

from . import views

app_name = "accounts"

# Everything under 2fa/ is reachable before the second factor (see middleware); the pages that
# change an enrolled account live under security/ and so need a verified session.
urlpatterns = [
    path("security/", views.security, name="security"),
    path("security/recovery-codes/", views.recovery_codes_regenerate, name="recovery-codes-regenerate"),
    path("security/2fa/disable/", views.two_factor_disable, name="2fa-disable"),
    path("2fa/setup/", views.two_factor_setup, name="2fa-setup"),
    path("2fa/verify/", views.two_factor_verify, name="2fa-verify"),
]
