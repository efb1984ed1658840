"""The merchant API's order actions: capture, ship, cancel, refund (POST /api/v1/bnpl/orders/{id}/<action>/).

Each calls its service in bnpl/orders.py and answers the order as it stands afterwards (200). Another
merchant's order is 404, bad input or a refused transition 400 in the API's error format with the
field in `details` (nothing changes), a caller who may read but not operate the order 403. Every
POST honours an `Idempotency-Key` header (portal.api): a repeat answers the first answer.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.api.fields import StrictCharField

from .. import orders, selectors
from ..money import MONEY
from .serializers import OrderDetailSerializer
from .views import IsMerchant


class OrderAfterActionSerializer(OrderDetailSerializer):
    tracking_status = serializers.CharField(read_only=True)

    class Meta(OrderDetailSerializer.Meta):
        fields = [*OrderDetailSerializer.Meta.fields, "tracking_status"]


class CaptureInSerializer(serializers.Serializer):
    amount = serializers.DecimalField(**MONEY, required=False, help_text="The whole order amount, if given.")


class ShipInSerializer(serializers.Serializer):
    carrier = StrictCharField(max_length=50, help_text="Shippo's carrier token, e.g. dhl_germany, ups, dpd_de.")
    tracking_number = StrictCharField(max_length=100)
    shipped_at = serializers.DateTimeField(required=False, help_text="Default: now. Not in the future.")


class CancelInSerializer(serializers.Serializer):
    reason = StrictCharField(max_length=500, required=False, allow_blank=True, default="")


class RefundInSerializer(serializers.Serializer):
    amount = serializers.DecimalField(**MONEY)
    reason = StrictCharField(max_length=500, required=False, allow_blank=True, default="")


REFUSED = OpenApiResponse(
    description="Bad input or a transition the order's state refuses; `details` names the field "
    "(`state`, `amount`, `carrier`, `tracking_number`, `shipped_at`, `reason`)."
)


class OrderActionView(APIView):
    permission_classes = [IsMerchant]
    input_serializer: type[serializers.Serializer]

    def perform(self, request, order_id, values):
        raise NotImplementedError  # each action below says what it does

    def post(self, request, order_id):
        data = self.input_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            self.perform(request, order_id, data.validated_data)
        except DjangoValidationError as exc:
            raise exceptions.ValidationError(exc.message_dict) from None
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc) or None) from None
        order = selectors.access_order(actor=request.user, order_id=order_id)
        return Response(OrderAfterActionSerializer(order, context={"request": request}).data)


class OrderCaptureView(OrderActionView):
    input_serializer = CaptureInSerializer

    @extend_schema(
        request=CaptureInSerializer,
        responses={200: OrderAfterActionSerializer, 400: REFUSED},
        operation_id="bnpl_orders_capture",
        description="Capture an approved order for its whole amount.",
    )
    def post(self, request, order_id):
        return super().post(request, order_id)

    def perform(self, request, order_id, values):
        orders.order_capture(actor=request.user, order_id=order_id, amount=values.get("amount"))


class OrderShipView(OrderActionView):
    input_serializer = ShipInSerializer

    @extend_schema(
        request=ShipInSerializer,
        responses={200: OrderAfterActionSerializer, 400: REFUSED},
        operation_id="bnpl_orders_ship",
        description="Ship a captured order: the plan starts on the shipment date, the shopper gets the "
        "schedule by e-mail, and the parcel is registered for tracking.",
    )
    def post(self, request, order_id):
        return super().post(request, order_id)

    def perform(self, request, order_id, values):
        orders.order_ship(
            actor=request.user,
            order_id=order_id,
            carrier=values["carrier"],
            tracking_number=values["tracking_number"],
            shipped_at=values.get("shipped_at"),
        )


class OrderCancelView(OrderActionView):
    input_serializer = CancelInSerializer

    @extend_schema(
        request=CancelInSerializer,
        responses={200: OrderAfterActionSerializer, 400: REFUSED},
        operation_id="bnpl_orders_cancel",
        description="Cancel an order that is not shipped yet, with its plan.",
    )
    def post(self, request, order_id):
        return super().post(request, order_id)

    def perform(self, request, order_id, values):
        orders.order_cancel(actor=request.user, order_id=order_id, reason=values["reason"])


class OrderRefundView(OrderActionView):
    input_serializer = RefundInSerializer

    @extend_schema(
        request=RefundInSerializer,
        responses={200: OrderAfterActionSerializer, 400: REFUSED},
        operation_id="bnpl_orders_refund",
        description="Refund part or all of a shipped order (at most what is not refunded yet); the "
        "schedule is cut from the last instalment backwards and the shopper is told.",
    )
    def post(self, request, order_id):
        return super().post(request, order_id)

    def perform(self, request, order_id, values):
        orders.order_refund(actor=request.user, order_id=order_id, amount=values["amount"], reason=values["reason"])
