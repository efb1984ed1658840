from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.permissions import IsAuthenticated

from commissions import selectors
from commissions.filters import AccrualFilter, StatementFilter
from commissions.models import Accrual, Statement
from commissions.permissions import can_read_commissions
from portal.api.downloads import NO_FORMAT_PARAMETER, PDF_RESPONSES, FileDownloadView

from . import serializers


class IsCommissionReader(IsAuthenticated):
    """Brokers, firm managers and back office; what each sees is the commission policy's call."""

    api_key_scope = "commissions"

    def has_permission(self, request, view):
        return super().has_permission(request, view) and can_read_commissions(request.user)


class StatementListView(generics.ListAPIView):
    """Your commissions per month (with a firm manager's permission, the firm's; back office: all)."""

    permission_classes = [IsCommissionReader]
    serializer_class = serializers.StatementSerializer
    filterset_class = StatementFilter
    queryset = Statement.objects.none()  # for the schema; get_queryset scopes to the caller

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return selectors.statement_list(actor=self.request.user)

    @extend_schema(operation_id="commissions_list")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class StatementDetailView(generics.RetrieveAPIView):
    permission_classes = [IsCommissionReader]
    serializer_class = serializers.StatementDetailSerializer
    queryset = Statement.objects.none()

    def get_object(self):
        return selectors.access_statement(actor=self.request.user, statement_id=self.kwargs["statement_id"])

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            context["breakdown"] = selectors.statement_breakdown(statement=self.get_object())
        return context

    @extend_schema(operation_id="commissions_retrieve")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class StatementPdfView(FileDownloadView):
    permission_classes = [IsCommissionReader]

    @extend_schema(
        operation_id="commissions_pdf_retrieve",
        responses=PDF_RESPONSES,
        parameters=[NO_FORMAT_PARAMETER],
        description="The monthly statement as PDF (404 until the month is closed and the PDF rendered). "
        "Sent as `application/pdf`, or as `application/octet-stream` to a client that accepts only that.",
    )
    def get(self, request, statement_id):
        statement = selectors.access_statement(actor=request.user, statement_id=statement_id)
        return self.file_response(statement.pdf, filename=f"commission-statement-{statement.period:%Y-%m}.pdf")


class AccrualListView(generics.ListAPIView):
    """Commission entries with their source, filterable by statement, month, kind, client, asset class."""

    permission_classes = [IsCommissionReader]
    serializer_class = serializers.AccrualSerializer
    filterset_class = AccrualFilter
    queryset = Accrual.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return selectors.accrual_list(actor=self.request.user)

    @extend_schema(operation_id="commissions_accruals_list")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class AccrualDetailView(generics.RetrieveAPIView):
    permission_classes = [IsCommissionReader]
    serializer_class = serializers.AccrualDetailSerializer
    queryset = Accrual.objects.none()

    def get_object(self):
        return selectors.access_accrual(actor=self.request.user, accrual_id=self.kwargs["accrual_id"])

    @extend_schema(operation_id="commissions_accruals_retrieve")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
