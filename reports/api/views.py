from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.core.files import stored_file_response
from reports import selectors, services
from reports.models import Report
from reports.permissions import can_request_reports

from . import serializers


class IsReportRequester(IsAuthenticated):
    """Brokers, firm managers and back office; which subjects each may use is the service's call."""

    api_key_scope = "reports"

    def has_permission(self, request, view):
        return super().has_permission(request, view) and can_request_reports(request.user)


class ReportListView(generics.ListAPIView):
    """Your reports, newest first: status, progress, and the download link when ready."""

    permission_classes = [IsReportRequester]
    serializer_class = serializers.ReportSerializer
    queryset = Report.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return selectors.report_list(actor=self.request.user)

    @extend_schema(operation_id="reports_list")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="reports_create",
        request=serializers.ReportRequestSerializer,
        responses={202: serializers.ReportSerializer},
        description="Request a report; it is rendered in the background. Poll its status, then download it.",
    )
    def post(self, request):
        data = serializers.ReportRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            report = services.report_request(actor=request.user, **data.validated_data)
        except DjangoValidationError as error:
            raise ValidationError(error.message_dict if hasattr(error, "error_dict") else error.messages) from None
        return Response(serializers.ReportSerializer(report).data, status=status.HTTP_202_ACCEPTED)


class ReportDetailView(generics.RetrieveAPIView):
    permission_classes = [IsReportRequester]
    serializer_class = serializers.ReportSerializer
    queryset = Report.objects.none()

    def get_object(self):
        return selectors.access_report(actor=self.request.user, report_id=self.kwargs["report_id"])

    @extend_schema(operation_id="reports_retrieve")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ReportDownloadView(APIView):
    permission_classes = [IsReportRequester]

    @extend_schema(
        operation_id="reports_download",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
        description="The report's PDF (404 until it is ready).",
    )
    def get(self, request, report_id):
        report = selectors.access_report(actor=request.user, report_id=report_id)
        if report.status != Report.Status.READY:
            raise Http404
        return stored_file_response(report.file, filename=report.download_name)
