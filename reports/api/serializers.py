from django.urls import reverse
from rest_framework import serializers

from reports.models import Report


class ReportSerializer(serializers.ModelSerializer):
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

    def get_download_url(self, report) -> str | None:
        if report.status != Report.Status.READY:
            return None
        return reverse("reports-api:report-download", args=[report.pk])


class ReportRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Report.Kind.choices)
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    client_id = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    broker_id = serializers.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, help_text="Inducements disclosure; default: yourself."
    )
