"""The approvals API for staff keys and sessions: list what I may see or decide, approve, reject.

The same selectors and services as the pages, so the same rules hold: the maker is refused, nobody
decides twice, parallel calls give one outcome. An API key proves a secret, not a second factor, so
a kind whose policy needs one answers 403 `second_factor_required` to a key: decide it in the portal.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.accounts.two_factor import session_verified
from portal.api.models import ApiKey

from .. import selectors, services
from ..filters import ApprovalFilter
from ..models import Approval
from ..registry import approval_kind, kinds_decidable_by
from . import serializers

SCOPE = "approvals"


class IsApprover(IsAuthenticated):
    """Staff who decide at least one kind of approval; which cases they reach is the policy's call."""

    api_key_scope = SCOPE

    def has_permission(self, request, view):
        return super().has_permission(request, view) and bool(kinds_decidable_by(request.user))


class ApprovalListView(generics.ListAPIView):
    """Approvals you may see (filter `to_decide=true` for those waiting for your decision)."""

    permission_classes = [IsApprover]
    serializer_class = serializers.ApprovalSerializer
    filterset_class = ApprovalFilter
    queryset = Approval.objects.none()  # for the schema; get_queryset scopes to the caller

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return selectors.approval_list(actor=self.request.user)

    @extend_schema(operation_id="approvals_list")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ApprovalDetailView(generics.RetrieveAPIView):
    permission_classes = [IsApprover]
    serializer_class = serializers.ApprovalSerializer
    queryset = Approval.objects.none()

    def get_object(self):
        return selectors.access_approval(actor=self.request.user, approval_id=self.kwargs["approval_id"])

    @extend_schema(operation_id="approvals_retrieve")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


DECISION_RESPONSES = {
    200: serializers.ApprovalSerializer,
    400: OpenApiResponse(
        description="The decision is not possible: you made the case (`four_eyes`), you decided it already, "
        "it is no longer pending, or (reject) the `reason` is missing."
    ),
}
DECISION_DESCRIPTION = (
    "A 403 answers a caller who is not one of the kind's approvers, and an API key deciding a kind that "
    "needs a second factor (`second_factor_required`): a key cannot prove one, so such cases are decided "
    "in the portal."
)


class _DecisionView(APIView):
    permission_classes = [IsApprover]
    input_serializer = serializers.ApproveSerializer

    def decide(self, request, approval: Approval, reason: str) -> Approval:
        raise NotImplementedError

    def post(self, request, approval_id):
        approval = selectors.access_approval(actor=request.user, approval_id=approval_id)
        data = self.input_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        if isinstance(request.auth, ApiKey) and _needs_second_factor(approval):
            raise PermissionDenied(
                _(
                    "Approvals of this kind need a second factor, which an API key cannot prove. "
                    "Decide it in the portal."
                ),
                code="second_factor_required",
            )
        try:
            decided = self.decide(request, approval, data.validated_data["reason"])
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc) or None) from None
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages) from None
        # Read again through the policy with its decisions and people: a bounded number of queries.
        return Response(serializers.ApprovalSerializer(_reloaded(request, decided)).data)


def _needs_second_factor(approval) -> bool:
    try:
        return approval_kind(approval.kind).second_factor
    except LookupError:
        return True  # a kind nobody registers any more is decided by nobody; the service refuses it


def _reloaded(request, approval):
    return selectors.approval_list(actor=request.user).get(pk=approval.pk)


class ApprovalApproveView(_DecisionView):
    @extend_schema(
        request=serializers.ApproveSerializer,
        responses=DECISION_RESPONSES,
        operation_id="approvals_approve",
        description=DECISION_DESCRIPTION,
    )
    def post(self, request, approval_id):
        return super().post(request, approval_id)

    def decide(self, request, approval, reason):
        return services.approval_approve(
            actor=request.user,
            approval_id=approval.pk,
            second_factor_verified=session_verified(request.user),
            reason=reason,
        )


class ApprovalRejectView(_DecisionView):
    input_serializer = serializers.RejectSerializer

    @extend_schema(
        request=serializers.RejectSerializer,
        responses=DECISION_RESPONSES,
        operation_id="approvals_reject",
        description=DECISION_DESCRIPTION,
    )
    def post(self, request, approval_id):
        return super().post(request, approval_id)

    def decide(self, request, approval, reason):
        return services.approval_reject(
            actor=request.user,
            approval_id=approval.pk,
            reason=reason,
            second_factor_verified=session_verified(request.user),
        )
