from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from portal.api.downloads import NO_FORMAT_PARAMETER, PDF_RESPONSES, FileDownloadView
from reports import selectors, services
from reports.models import Report
from reports.permissions import can_request_reports

from . import serializers

# The service's error keys for the report's subject, as the API's request fields name them.
_API_FIELDS = {"client": "client_id", "broker": "broker_id"}


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
        responses={
            202: serializers.ReportSerializer,
            400: OpenApiResponse(
                description="Besides malformed fields, these rules of the request itself (`details` names the "
                "field): `period_start` not before 2000-01-01; `period_end` not before `period_start`, "
                "yesterday at the latest, and at most 366 days after `period_start`; `client_id` one of "
                "your clients (required for client reports: a client that is not yours is a 400 naming "
                "`client_id`, since it is a reference in the body, not the address of the call); `broker_id` "
                "a broker whose inducements you may disclose (yourself, unless you are back office); at "
                "most 10 of your reports in progress (`non_field_errors`)."
            ),
        },
        description="Request a report; it is rendered in the background. Poll its status, then download it. "
        "An identical request while the first is still in progress returns that one.",
    )
    def post(self, request):
        data = serializers.ReportRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            report = services.report_request(actor=request.user, **data.validated_data)
        except DjangoValidationError as error:
            detail = error.message_dict if hasattr(error, "error_dict") else error.messages
            if isinstance(detail, dict):
                # The service names the subjects; the API's fields are their ids.
                detail = {_API_FIELDS.get(name, name): messages for name, messages in detail.items()}
            raise ValidationError(detail) from None
        report_data = serializers.ReportSerializer(report, context=self.get_serializer_context()).data
        return Response(report_data, status=status.HTTP_202_ACCEPTED)


class ReportDetailView(generics.RetrieveAPIView):
    permission_classes = [IsReportRequester]
    serializer_class = serializers.ReportSerializer
    queryset = Report.objects.none()

    def get_object(self):
        return selectors.access_report(actor=self.request.user, report_id=self.kwargs["report_id"])

    @extend_schema(operation_id="reports_retrieve")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ReportDownloadView(FileDownloadView):
    permission_classes = [IsReportRequester]

    @extend_schema(
        operation_id="reports_download",
        responses=PDF_RESPONSES,
        parameters=[NO_FORMAT_PARAMETER],
        description="The report's PDF (404 until it is ready). Sent as `application/pdf`, or as "
        "`application/octet-stream` to a client that accepts only that.",
    )
    def get(self, request, report_id):
        report = selectors.access_report(actor=request.user, report_id=report_id)
        if report.status != Report.Status.READY:
            raise Http404
        return self.file_response(report.file, filename=report.download_name)
