from rest_framework import serializers

from portal.api.fields import ModelSerializer, StrictCharField, UtcDateTimeField

from ..models import Approval, ApprovalDecision
from ..services import REASON_MAX_LENGTH


class DecisionSerializer(ModelSerializer):
    actor = serializers.EmailField(source="actor.email", read_only=True, allow_null=True, default=None)

    class Meta:
        model = ApprovalDecision
        fields = ["outcome", "actor", "at", "reason"]


class ApprovalSerializer(ModelSerializer):
    """One case with the seed's columns: who approved and rejected it, when, and why."""

    kind_label = serializers.CharField(read_only=True)
    maker = serializers.EmailField(source="maker.email", read_only=True)
    object_type = serializers.SerializerMethodField()
    approved_by = serializers.SerializerMethodField()
    rejected_by = serializers.SerializerMethodField()
    approved_at = UtcDateTimeField(read_only=True, allow_null=True)
    rejected_at = UtcDateTimeField(read_only=True, allow_null=True)
    decisions = DecisionSerializer(many=True, read_only=True)

    class Meta:
        model = Approval
        fields = [
            "id",
            "kind",
            "kind_label",
            "object_type",
            "object_id",
            "subject",
            "party",
            "maker",
            "amount",
            "currency",
            "state",
            "approvals_required",
            "requested_at",
            "due_at",
            "approved_by",
            "rejected_by",
            "approved_at",
            "rejected_at",
            "rejection_reason",
            "decisions",
        ]

    def get_object_type(self, approval) -> str:
        return approval.kind.partition(".")[0] if approval.kind else ""

    def get_approved_by(self, approval) -> list[str]:
        return [user.email for user in approval.approvers]

    def get_rejected_by(self, approval) -> str | None:
        return approval.rejecter.email if approval.rejecter else None


class ApproveSerializer(serializers.Serializer):
    reason = StrictCharField(max_length=REASON_MAX_LENGTH, required=False, allow_blank=True, default="")


class RejectSerializer(serializers.Serializer):
    reason = StrictCharField(max_length=REASON_MAX_LENGTH)
