from django.urls import path

from . import views

app_name = "bnpl-api"

urlpatterns = [
    path("bnpl/sessions/", views.SessionListView.as_view(), name="session-list"),
    path("bnpl/sessions/<int:session_id>/", views.SessionDetailView.as_view(), name="session-detail"),
    path("bnpl/orders/", views.OrderListView.as_view(), name="order-list"),
    path("bnpl/orders/<int:order_id>/", views.OrderDetailView.as_view(), name="order-detail"),
]
