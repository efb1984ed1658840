"""The portal's URLs, the framework floor, and one bench-only endpoint: decide a prepared order.

There is no checkout endpoint yet that places an order (and so runs the credit decision) through
the API, so the benchmark measures `decide_order` behind the same API authentication instead:
`POST /bench/bnpl/decide/<order id>/` with the order's merchant's API key runs the credit rules on
that order, writes its decision and audit event, and answers 201 (409 if it was decided already).
Only served when PORTAL_URLCONF names this module (benchmarks/bench_bnpl_api.py), never in production.
"""

from django.core.exceptions import ValidationError
from django.urls import path
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from bnpl.api.views import IsMerchant
from bnpl.decisions import decide_order
from bnpl.models import Order

from .floor_urls import handler403, handler404, handler500  # noqa: F401
from .floor_urls import urlpatterns as floor_urlpatterns


class DecideView(APIView):
    permission_classes = [IsMerchant]

    def post(self, request, order_id: int):
        if not Order.objects.restrict(request.user, "operate").filter(pk=order_id).exists():
            return Response(status=status.HTTP_404_NOT_FOUND)
        try:
            decision = decide_order(order_id=order_id)
        except ValidationError:
            return Response({"detail": "already decided"}, status=status.HTTP_409_CONFLICT)
        return Response({"order": order_id, "outcome": decision.outcome}, status=status.HTTP_201_CREATED)


urlpatterns = [path("bench/bnpl/decide/<int:order_id>/", DecideView.as_view()), *floor_urlpatterns]
