from django.urls import reverse
from rest_framework import serializers

from portal.api.fields import ModelSerializer, StrictCharField

from ..models import SignatureAttachment, SignatureRequest
from ..validators import CURRENCIES


class AttachmentSerializer(ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = SignatureAttachment
        fields = ["id", "name", "content_type", "size", "sha256", "url"]

    def get_url(self, attachment) -> str:
        return reverse("signing:attachment", args=[attachment.request_id, attachment.pk])


class PortfolioSerializer(serializers.Serializer):
    reference = serializers.CharField(source="portfolio_reference")
    label = serializers.CharField(source="portfolio_label")


class SignatureRequestSerializer(ModelSerializer):
    reference = serializers.CharField(source="short_reference", read_only=True)
    recipient = serializers.CharField(source="recipient_key")
    recipient_name = serializers.CharField(source="recipient_label")
    sender = serializers.EmailField(source="sender.email")
    portfolio = serializers.SerializerMethodField()
    fingerprint = serializers.CharField()
    attachments = AttachmentSerializer(many=True)
    signed_pdf_url = serializers.SerializerMethodField()

    class Meta:
        model = SignatureRequest
        fields = [
            "id",
            "uuid",
            "reference",
            "kind",
            "status",
            "recipient",
            "recipient_name",
            "sender",
            "title",
            "message",
            "amount",
            "currency",
            "portfolio",
            "payee_name",
            "payee_iban",
            "payment_reference",
            "product_name",
            "content_hash",
            "fingerprint",
            "version",
            "created_at",
            "sent_at",
            "viewed_at",
            "expires_at",
            "signed_at",
            "declined_at",
            "decline_reason",
            "cancelled_at",
            "cancel_reason",
            "handled_at",
            "handling_comment",
            "attachments",
            "signed_pdf_url",
        ]

    def get_portfolio(self, request) -> dict | None:
        if not request.portfolio_reference:
            return None
        return {"reference": request.portfolio_reference, "label": request.portfolio_label}

    def get_signed_pdf_url(self, request) -> str | None:
        evidence = getattr(request, "evidence", None) if request.is_signed else None
        if evidence is None or not evidence.pdf:
            return None
        return reverse("signing:signed-pdf", args=[request.pk])


class SignatureRequestCreateSerializer(serializers.Serializer):
    """Input for a new request, sent as multipart/form-data (attachments are files).

    The content rules are the services' (the same as on the page) and depend on `kind`: a fund
    transfer needs `amount`, `currency`, `portfolio`, `payee_name` and a valid `payee_iban`; a
    product subscription `amount`, `currency`, `portfolio` and `product_name`; a document a
    `message`. A field left out, or sent empty, is not given.
    """

    recipient = serializers.CharField(
        max_length=64, help_text="The client's id, as /api/v1/clients/ lists it (the client needs a portal login)."
    )
    kind = serializers.ChoiceField(choices=SignatureRequest.Kind.choices)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    message = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    # Left out rather than null: a multipart form has no null. More than zero (a 400 otherwise).
    amount = serializers.DecimalField(max_digits=20, decimal_places=2, required=False)
    currency = serializers.ChoiceField(choices=CURRENCIES, required=False)
    portfolio = serializers.CharField(
        max_length=64, required=False, allow_blank=True, default="", help_text="The portfolio number."
    )
    payee_name = serializers.CharField(max_length=140, required=False, allow_blank=True, default="")
    payee_iban = serializers.CharField(max_length=42, required=False, allow_blank=True, default="")
    payment_reference = serializers.CharField(max_length=140, required=False, allow_blank=True, default="")
    product_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    attachments = serializers.ListField(
        # An empty file reaches the upload check, which refuses it naming the file.
        child=serializers.FileField(allow_empty_file=True),
        required=False,
        default=list,
        help_text="PDF, PNG or JPEG files, each at most SIGNING_MAX_ATTACHMENT_BYTES (10 MB; 413 above).",
    )
    send = serializers.BooleanField(
        required=False, default=False, help_text="Send to the client at once instead of keeping a draft."
    )


class CancelSerializer(serializers.Serializer):
    reason = StrictCharField(max_length=5000, required=False, allow_blank=True, default="")
