from django.urls import path

from . import buttons, order_actions, views

app_name = "bnpl-api"

urlpatterns = [
    path("bnpl/sessions/", views.SessionListView.as_view(), name="session-list"),
    path("bnpl/sessions/<int:session_id>/", views.SessionDetailView.as_view(), name="session-detail"),
    path("bnpl/buttons/", buttons.ButtonListView.as_view(), name="button-list"),
    path("bnpl/buttons/<int:button_id>/", buttons.ButtonDetailView.as_view(), name="button-detail"),
    path("bnpl/orders/", views.OrderListView.as_view(), name="order-list"),
    path("bnpl/orders/<int:order_id>/", views.OrderDetailView.as_view(), name="order-detail"),
    path("bnpl/orders/<int:order_id>/capture/", order_actions.OrderCaptureView.as_view(), name="order-capture"),
    path("bnpl/orders/<int:order_id>/ship/", order_actions.OrderShipView.as_view(), name="order-ship"),
    path("bnpl/orders/<int:order_id>/cancel/", order_actions.OrderCancelView.as_view(), name="order-cancel"),
    path("bnpl/orders/<int:order_id>/refund/", order_actions.OrderRefundView.as_view(), name="order-refund"),
]
