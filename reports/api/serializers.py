from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portal.api.fields import ModelSerializer, StrictIntegerField
from reports.models import Report


class ReportSerializer(ModelSerializer):
    client_number = serializers.CharField(source="client.number", read_only=True, allow_null=True, default=None)
    broker = serializers.EmailField(source="broker.email", read_only=True, allow_null=True, default=None)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = [
            "id",
            "kind",
            "client_id",
            "client_number",
            "broker",
            "period_start",
            "period_end",
            "status",
            "progress",
            "error",
            "created_at",
            "finished_at",
            "inputs_hash",
            "method",
            "file_sha256",
            "download_url",
        ]

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_download_url(self, report) -> str | None:
        """The PDF's absolute URL once the report is ready (absolute like the lists' `next`)."""
        if report.status != Report.Status.READY:
            return None
        return self.context["request"].build_absolute_uri(reverse("reports-api:report-download", args=[report.pk]))


class ReportRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Report.Kind.choices)
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    client_id = StrictIntegerField(
        required=False, min_value=1, max_value=2**63 - 1, help_text="The client, for client reports."
    )
    broker_id = StrictIntegerField(
        required=False, min_value=1, max_value=2**63 - 1, help_text="Inducements disclosure; default: yourself."
    )
