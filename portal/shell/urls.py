from django.urls import path

from . import views

app_name = "shell"

urlpatterns = [
    path("", views.home, name="home"),
    path("home/<slug:role>/", views.role_home, name="role-home"),
    path("welcome/", views.welcome, name="welcome"),
    path("favicon.ico", views.favicon, name="favicon"),
]
