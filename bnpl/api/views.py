"""The merchant API: payment sessions and orders, for a merchant's people and their API keys.

Keys reach it through the "bnpl" resource group. The same selectors and services as the pages:
another merchant's session or order answers 404, bad input 400 with nothing written.
"""

from contextlib import contextmanager

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.response import Response

from portal.accounts.roles import Role
from portal.api.permissions import HasRole

from .. import checkout, pricing, selectors, services
from ..filters import OrderFilter
from ..models import Order, PaymentSession
from ..permissions import BNPL_STAFF_ROLES
from . import serializers

# API keys reach these endpoints through this resource group (portal.api.scopes).
SCOPE = "bnpl"


class IsMerchant(HasRole):
    """A merchant's people; which merchant's objects they reach is the policy's business."""

    roles = frozenset({Role.MERCHANT})
    api_key_scope = SCOPE


class IsBnplReader(HasRole):
    """A merchant's people and the staff who read every merchant's orders."""

    roles = frozenset({Role.MERCHANT, *BNPL_STAFF_ROLES})
    api_key_scope = SCOPE


def _options_by_session(sessions, now) -> dict:
    """The payment options of each open session, priced from today; a closed session offers none."""
    today = timezone.localdate(now)
    return {
        session.pk: pricing.payment_options(amount=session.amount, currency=session.currency, start=today)
        for session in sessions
        if session.is_open(now)
    }


@contextmanager
def _service_errors():
    """A service's refusal in the API's terms: ValidationError → 400, PermissionDenied → 403."""
    try:
        yield
    except DjangoValidationError as exc:
        raise exceptions.ValidationError(exc.message_dict) from None
    except DjangoPermissionDenied as exc:
        raise exceptions.PermissionDenied(str(exc) or None) from None


def _session_answer(view, session) -> dict:
    """One session with its options priced now."""
    now = timezone.now()
    context = {**view.get_serializer_context(), "now": now, "payment_options": _options_by_session([session], now)}
    return serializers.SessionSerializer(session, context=context).data


class SessionListView(generics.ListCreateAPIView):
    """Your payment sessions (newest first), and new ones."""

    permission_classes = [IsMerchant]
    serializer_class = serializers.SessionSerializer
    queryset = PaymentSession.objects.none()  # for the schema; get_queryset scopes to the caller

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return selectors.session_list(actor=self.request.user)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["now"] = timezone.now()
        return context

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        context = self.get_serializer_context()
        context["payment_options"] = _options_by_session(page, context["now"])
        return self.get_paginated_response(serializers.SessionSerializer(page, many=True, context=context).data)

    @extend_schema(
        request=serializers.SessionCreateSerializer,
        responses={
            201: serializers.SessionSerializer,
            400: OpenApiResponse(
                description="Malformed fields, or content the rules refuse (`details` names the field): "
                "`amount` more than zero in whole cents; `currency` one of EUR, USD, GBP, CHF, PLN, CZK, SEK, "
                "DKK; `order_lines` at least one, each with quantity ≥ 1 and unit price ≥ 0, adding up "
                "(quantity × unit price) to the amount to the cent; `shopper_email` valid; `locale` en, de or ru."
            ),
        },
        operation_id="bnpl_sessions_create",
        description="Open a payment session for a shopper at your checkout: the payment options they may "
        "be offered, each with its schedule and cost, and the hosted checkout URL to send them to. "
        "The session expires after BNPL_SESSION_TTL_MINUTES (60). A caller whose organisation is not an "
        "active BNPL merchant gets 403.",
    )
    def post(self, request):
        data = serializers.SessionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        with _service_errors():
            session = services.session_create(
                actor=request.user,
                amount=values["amount"],
                currency=values["currency"],
                lines=[services.LineInput(**line) for line in values["order_lines"]],
                shopper_email=values["shopper_email"],
                locale=values["locale"],
                reference=values["reference"],
                return_url=values["return_url"],
            )
        # Answered from what the service returned; nothing is read after the commit.
        return Response(
            _session_answer(self, session),
            status=status.HTTP_201_CREATED,
            headers={"Location": reverse("bnpl-api:session-detail", args=[session.pk])},
        )


class SessionDetailView(generics.RetrieveAPIView):
    permission_classes = [IsMerchant]
    serializer_class = serializers.SessionSerializer
    queryset = PaymentSession.objects.none()
    http_method_names = ["get", "patch", "head", "options"]

    @extend_schema(
        request=serializers.SessionLinesSerializer,
        responses={
            200: serializers.SessionSerializer,
            400: OpenApiResponse(
                description="Lines that do not add up to the amount, or bad lines (as at creation; `details` "
                "names the field); or a session that is expired, used or whose agreement the shopper has "
                "accepted (`session`). Nothing changes."
            ),
        },
        operation_id="bnpl_sessions_lines_update",
        description="Replace an open session's order lines and amount before the shopper accepts: the "
        "payment options are priced anew, and an agreement the shopper was about to sign must be read "
        "and signed again (a code sent for the old figures no longer works). Honours `Idempotency-Key`.",
    )
    def patch(self, request, session_id):
        data = serializers.SessionLinesSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        with _service_errors():
            session = checkout.session_lines_update(
                actor=request.user,
                session_id=session_id,
                amount=values["amount"],
                lines=[services.LineInput(**line) for line in values["order_lines"]],
            )
        return Response(_session_answer(self, session))

    def get_object(self):
        return selectors.access_session(actor=self.request.user, session_id=self.kwargs["session_id"])

    def retrieve(self, request, *args, **kwargs):
        return Response(_session_answer(self, self.get_object()))


class OrderListView(generics.ListAPIView):
    """Your orders (newest first), filterable by state and creation date."""

    permission_classes = [IsBnplReader]
    serializer_class = serializers.OrderSerializer
    filterset_class = OrderFilter
    queryset = Order.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return selectors.order_list(actor=self.request.user)

    @extend_schema(operation_id="bnpl_orders_list")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class OrderDetailView(generics.RetrieveAPIView):
    permission_classes = [IsBnplReader]
    serializer_class = serializers.OrderDetailSerializer
    queryset = Order.objects.none()

    def get_object(self):
        return selectors.access_order(actor=self.request.user, order_id=self.kwargs["order_id"])

    @extend_schema(operation_id="bnpl_orders_retrieve")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
