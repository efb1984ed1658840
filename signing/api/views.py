"""The API for brokers: list, create, retrieve and cancel signature requests.

The same selectors and services as the pages, so the same rules: a request that is not the
caller's answers 404, bad input answers 400 (413 for an attachment over the size limit) and
changes nothing. The client's actions (code, sign, decline) stay in the browser.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.accounts.roles import BROKER_ROLES
from portal.api.permissions import HasRole
from portal.core.uploads import UploadTooLarge

from .. import selectors, services
from ..filters import SignatureRequestFilter
from ..models import SignatureRequest
from . import serializers

# API keys reach these endpoints through the "signature_requests" resource group (portal.api.scopes).
SCOPE = "signature_requests"


class IsBroker(HasRole):
    """Intermediaries and firm managers; which requests they reach is the policy's business."""

    roles = BROKER_ROLES
    api_key_scope = SCOPE


def _access(request, request_id) -> SignatureRequest:
    """A request of the caller's; for anybody who is not a broker, no request exists here (404)."""
    if not request.user.has_role(*BROKER_ROLES):
        raise NotFound
    return selectors.access_signature_request(actor=request.user, request_id=request_id)


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


def _api_error(exc: DjangoValidationError) -> APIException:
    detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
    if isinstance(detail, dict) and "portfolio_reference" in detail:
        detail["portfolio"] = detail.pop("portfolio_reference")
    if isinstance(exc, UploadTooLarge):
        return PayloadTooLarge(detail=" ".join(exc.messages), code="too_large")
    return ValidationError(detail)


class SignatureRequestListView(generics.ListCreateAPIView):
    """Your signature requests (newest first, filterable), and new ones."""

    permission_classes = [IsBroker]
    serializer_class = serializers.SignatureRequestSerializer
    # A new request may carry files: multipart/form-data only, one request format per operation.
    parser_classes = [MultiPartParser]
    filterset_class = SignatureRequestFilter  # filter_queryset applies it; named here for the schema
    queryset = SignatureRequest.objects.none()  # for the schema; get_queryset scopes to the caller

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return (
            selectors.signature_request_list(actor=self.request.user)
            .select_related("evidence")
            .prefetch_related("attachments")
        )

    def filter_queryset(self, queryset):
        filterset = SignatureRequestFilter(self.request.query_params, queryset=queryset)
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        return filterset.qs

    @extend_schema(
        request={"multipart/form-data": serializers.SignatureRequestCreateSerializer},
        responses={
            201: serializers.SignatureRequestSerializer,
            400: OpenApiResponse(
                description="Besides malformed fields, the content rules of the request's kind (`details` "
                "names the field): `recipient` one of your clients with a portal login (a client that is not "
                "yours is a 400 naming `recipient`, since it is a reference in the body); `portfolio` one of "
                "that client's open portfolios; `amount` more than zero; a valid `payee_iban`; the fields "
                "each kind requires; attachments that are really PDF, PNG or JPEG, at most "
                "SIGNING_MAX_ATTACHMENTS (10) of them."
            ),
        },
        operation_id="signature_requests_create",
        description="A new request, kept as a draft, or sent to the client at once with `send=true`.",
    )
    def post(self, request):
        data = serializers.SignatureRequestCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        send = values.pop("send")
        values["portfolio_reference"] = values.pop("portfolio")
        try:
            # Written and sent in one transaction: a request that cannot be sent is not kept as a draft.
            with transaction.atomic():
                created = services.signature_request_create(actor=request.user, **values)
                if send:
                    created = services.signature_request_send(actor=request.user, request_id=created.pk)
        except DjangoValidationError as exc:
            raise _api_error(exc) from None
        # The answer is what the services returned, loaded inside their transaction. No query after
        # the commit: a lost connection there would turn a request that was made into a 500, which
        # invites the client to send it again.
        return Response(
            serializers.SignatureRequestSerializer(created).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": reverse("signing-api:request-detail", args=[created.pk])},
        )


class SignatureRequestDetailView(generics.RetrieveAPIView):
    permission_classes = [IsAuthenticated]
    api_key_scope = SCOPE
    serializer_class = serializers.SignatureRequestSerializer
    queryset = SignatureRequest.objects.none()

    def get_object(self):
        return _access(self.request, self.kwargs["request_id"])


class SignatureRequestCancelView(APIView):
    permission_classes = [IsAuthenticated]
    api_key_scope = SCOPE

    @extend_schema(
        request=serializers.CancelSerializer,
        responses={
            200: serializers.SignatureRequestSerializer,
            400: OpenApiResponse(
                description="The request can no longer be cancelled (it was signed, declined, expired or "
                "cancelled already): `details.non_field_errors` says why."
            ),
        },
        operation_id="signature_requests_cancel",
    )
    def post(self, request, request_id):
        signature_request = _access(request, request_id)
        data = serializers.CancelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            cancelled = services.signature_request_cancel(
                actor=request.user, request_id=signature_request.pk, reason=data.validated_data["reason"]
            )
        except DjangoValidationError as exc:
            raise _api_error(exc) from None
        # Answered from the service's result, as above: nothing is read after the commit.
        return Response(serializers.SignatureRequestSerializer(cancelled).data)
