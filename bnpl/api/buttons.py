"""The merchant API's buy buttons (instant shopping): `/api/v1/bnpl/buttons/` and `/{id}/`.

GET lists and reads your buttons; POST makes one; PATCH changes any of its fields (`shipping_options`, when
given, replaces them all; `active: false` switches it off, `true` on again). There is no DELETE: sessions
point at their button, so a button is switched off, never removed. The same services as the dashboard: another merchant's button is 404, bad input
400 with `details` naming the field and nothing written.
"""

from dataclasses import replace

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, serializers, status
from rest_framework.response import Response

from portal.api.fields import ModelSerializer, StrictCharField

from .. import buttons, selectors
from ..models import BuyButton, ShippingOption
from ..money import MONEY
from .views import IsMerchant


class ShippingOptionSerializer(ModelSerializer):
    class Meta:
        model = ShippingOption
        fields = ["id", "name", "price"]


class ButtonSerializer(ModelSerializer):
    shipping_options = ShippingOptionSerializer(many=True, read_only=True)
    buy_url = serializers.SerializerMethodField(help_text="The link to put in your shop (/bnpl/buy/<key>/).")

    class Meta:
        model = BuyButton
        fields = [
            "id",
            "key",
            "name",
            "description",
            "image_url",
            "unit_price",
            "currency",
            "tax_rate",
            "active",
            "shipping_options",
            "buy_url",
            "created_at",
            "updated_at",
        ]

    def get_buy_url(self, button) -> str:
        return buttons.buy_url(button)


class ShippingOptionInSerializer(serializers.Serializer):
    # Blank names and negative prices reach the service, which answers them in its own words.
    name = StrictCharField(max_length=100, allow_blank=True)
    price = serializers.DecimalField(**MONEY)


class ButtonInSerializer(serializers.Serializer):
    name = StrictCharField(max_length=200, allow_blank=True)
    description = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")
    image_url = StrictCharField(max_length=500, required=False, allow_blank=True, default="")
    unit_price = serializers.DecimalField(**MONEY)
    currency = StrictCharField(min_length=3, max_length=3)
    tax_rate = serializers.DecimalField(max_digits=5, decimal_places=2, required=False, default="0")
    shipping_options = ShippingOptionInSerializer(many=True, max_length=buttons.MAX_SHIPPING_OPTIONS)


class ButtonChangeSerializer(ButtonInSerializer):
    active = serializers.BooleanField(required=False)


REFUSED = OpenApiResponse(
    description="Bad input (`details` names the field): `name` given; `unit_price` more than zero in whole "
    "cents; `currency` one of EUR, USD, GBP, CHF, PLN, CZK, SEK, DKK; `tax_rate` 0–100; `shipping_options` "
    "one to ten, each with a name (unique on the button) and a price ≥ 0 in whole cents; `image_url` https."
)


def _service(call, **arguments):
    try:
        return call(**arguments)
    except DjangoValidationError as exc:
        raise exceptions.ValidationError(exc.message_dict) from None
    except DjangoPermissionDenied as exc:
        raise exceptions.PermissionDenied(str(exc) or None) from None


def _product(values: dict) -> dict:
    """The serializer's values as the service's fields (the shipping options as ShippingInput)."""
    if "shipping_options" in values:
        values = {**values, "shipping_options": [buttons.ShippingInput(**o) for o in values["shipping_options"]]}
    return values


class ButtonListView(generics.ListCreateAPIView):
    """Your buy buttons (newest first), and new ones."""

    permission_classes = [IsMerchant]
    serializer_class = ButtonSerializer
    queryset = BuyButton.objects.none()  # for the schema; get_queryset scopes to the caller

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return selectors.button_list(actor=self.request.user).order_by("-created_at", "-id")

    @extend_schema(operation_id="bnpl_buttons_list")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=ButtonInSerializer,
        responses={201: ButtonSerializer, 400: REFUSED},
        operation_id="bnpl_buttons_create",
        description="Make a buy button: a product a logged-in shopper buys in one step at `buy_url`.",
    )
    def post(self, request):
        data = ButtonInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        button = _service(
            buttons.button_create, actor=request.user, product=buttons.ButtonInput(**_product(data.validated_data))
        )
        button = selectors.access_button(actor=request.user, button_id=button.pk)
        return Response(
            ButtonSerializer(button).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": reverse("bnpl-api:button-detail", args=[button.pk])},
        )


class ButtonDetailView(generics.GenericAPIView):
    permission_classes = [IsMerchant]
    serializer_class = ButtonSerializer
    queryset = BuyButton.objects.none()

    @extend_schema(operation_id="bnpl_buttons_retrieve")
    def get(self, request, button_id):
        return Response(ButtonSerializer(selectors.access_button(actor=request.user, button_id=button_id)).data)

    @extend_schema(
        request=ButtonChangeSerializer,
        responses={200: ButtonSerializer, 400: REFUSED},
        operation_id="bnpl_buttons_partial_update",
        description="Change a button: the fields given (shipping_options replaces them all); `active` switches "
        "it on or off. Sessions opened before keep their own lines and prices.",
    )
    def patch(self, request, button_id):
        button = selectors.access_button(actor=request.user, button_id=button_id, action="operate")
        data = ButtonChangeSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        content = {key: value for key, value in values.items() if key != "active"}
        if content:
            product = replace(buttons.ButtonInput.of(button), **_product(content))
            _service(buttons.button_update, actor=request.user, button_id=button.pk, product=product)
        if "active" in values:
            _service(buttons.button_active_set, actor=request.user, button_id=button.pk, active=values["active"])
        return Response(ButtonSerializer(selectors.access_button(actor=request.user, button_id=button.pk)).data)
