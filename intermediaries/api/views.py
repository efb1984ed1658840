from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from clients.selectors import access_client, client_rows
from intermediaries import selectors
from intermediaries.filters import ClientFilter, TransactionFilter, browsing_key
from intermediaries.models import Portfolio, Transaction, Valuation
from portal.accounts.roles import BROKER_ROLES
from portal.api.permissions import HasRole
from portal.core.versioned_cache import cached_figures

from . import serializers


class IsBroker(HasRole):
    """Brokers and firm managers; everything else is decided by the client policy in the selectors."""

    roles = BROKER_ROLES
    # API keys reach these endpoints through the "clients" resource group (portal.api.scopes).
    api_key_scope = "clients"


class ClientListView(generics.ListAPIView):
    """Clients the caller may see, searchable and filterable as on the client list page.

    `assets_min` above `assets_max` is a 400 naming `assets_max`; `broker` must be a broker of the
    caller's firm for a firm manager, and the caller themselves for anyone else (a 400 otherwise).
    """

    permission_classes = [IsBroker]
    serializer_class = serializers.ClientSerializer
    filterset_class = ClientFilter

    def get_queryset(self):
        return client_rows(actor=self.request.user).order_by("last_name", "first_name", "pk")

    def filter_queryset(self, queryset):
        filterset = ClientFilter(self.request.query_params, queryset=queryset, actor=self.request.user)
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        return filterset.qs

    def list(self, request, *args, **kwargs):
        """Plain browsing is answered from the cache per data version, caller and parameters."""
        key = browsing_key(request.query_params)
        if key is None:  # a search or an unusual parameter: computed fresh
            return super().list(request, *args, **kwargs)
        compute = super().list
        # The page links are absolute: the host is part of the key.
        parts = (*selectors.actor_key(actor=request.user), request.get_host(), *key)
        if not isinstance(request.accepted_renderer, JSONRenderer):  # the browsable API wraps the data in a page
            return Response(cached_figures("api-client-list", parts, lambda: compute(request, *args, **kwargs).data))
        # A script's call: the JSON itself is cached, sparing the rendering of 50 rows on every call.
        body = cached_figures(
            "api-client-list-json",
            parts,
            lambda: request.accepted_renderer.render(
                compute(request, *args, **kwargs).data, request.accepted_media_type
            ),
        )
        return HttpResponse(body, content_type=request.accepted_media_type)


class ClientDetailView(generics.RetrieveAPIView):
    permission_classes = [IsBroker]
    serializer_class = serializers.ClientDetailSerializer

    def get_object(self):
        return access_client(actor=self.request.user, client_id=self.kwargs["client_id"])


class ClientPortfolioListView(generics.ListAPIView):
    permission_classes = [IsBroker]
    serializer_class = serializers.PortfolioSerializer
    queryset = Portfolio.objects.none()  # for the schema; get_queryset scopes to the caller

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        client = access_client(actor=self.request.user, client_id=self.kwargs["client_id"])
        return selectors.portfolios_of(client=client).order_by("number")


class ClientTransactionListView(generics.ListAPIView):
    permission_classes = [IsBroker]
    serializer_class = serializers.TransactionSerializer
    queryset = Transaction.objects.none()  # for the schema; get_queryset scopes to the caller
    filterset_class = TransactionFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        client = access_client(actor=self.request.user, client_id=self.kwargs["client_id"])
        return selectors.transactions_of(client=client).order_by("-trade_date", "-id")


class ClientPositionListView(APIView):
    permission_classes = [IsBroker]

    @extend_schema(
        parameters=[OpenApiParameter("date", OpenApiTypes.DATE, description="Positions on this day (default: latest)")],
        responses=serializers.PositionSerializer(many=True),
        operation_id="clients_positions_list",
    )
    def get(self, request, client_id):
        query = serializers.PositionQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        positions = selectors.position_list(
            actor=request.user, client_id=client_id, on=query.validated_data.get("date")
        )
        return Response(serializers.PositionSerializer(positions, many=True).data)


class ClientPerformanceView(APIView):
    permission_classes = [IsBroker]

    @extend_schema(
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, description="First day (default: inception)"),
            OpenApiParameter(
                "to", OpenApiTypes.DATE, description="Last day (default: latest valuation); not before `from`."
            ),
        ],
        responses={
            200: serializers.PerformanceSerializer,
            400: OpenApiResponse(description="Besides a malformed date: `from` after `to` (`details.from`)."),
        },
        operation_id="clients_performance_retrieve",
    )
    def get(self, request, client_id):
        query = serializers.PerformanceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = selectors.client_performance(
            actor=request.user,
            client_id=client_id,
            start=query.validated_data.get("from"),
            end=query.validated_data.get("to"),
        )
        data["flags"] = [str(label) for value, label in Valuation.Flag.choices if data["flags"] & value]
        return Response(serializers.PerformanceSerializer(data).data)


class DashboardView(APIView):
    permission_classes = [IsBroker]

    @extend_schema(
        parameters=[OpenApiParameter("period", OpenApiTypes.STR, enum=selectors.PERIODS, description="Default: YTD")],
        responses=serializers.DashboardSerializer,
        operation_id="dashboard_retrieve",
    )
    def get(self, request):
        period = request.query_params.get("period") or "YTD"  # empty, as forms send it, is not given
        if period not in selectors.PERIODS:
            raise ValidationError(
                {"period": _("Choose one of %(periods)s.") % {"periods": ", ".join(selectors.PERIODS)}}
            )
        return Response(serializers.DashboardSerializer(selectors.dashboard(actor=request.user, period=period)).data)
