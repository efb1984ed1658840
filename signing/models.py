import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.accounts.models import Organisation
from portal.core import uploads
from portal.core.policy import RestrictedQuerySet
from portal.notifications.models import OutboxMessage

MONEY = {"max_digits": 20, "decimal_places": 2}


# Files go to the default storage (MEDIA_ROOT, outside the web root; S3 past one machine) and are
# served only through the authorising views.


def attachment_path(instance, filename: str) -> str:
    """A random name per file with the extension of the kind found by content (the service names
    it so); the uploader's name is kept in the row, never used on disk."""
    kind = uploads.kind_from_extension(filename.rpartition(".")[2]) if "." in filename else None
    return f"signing/{instance.request.uuid}/{uuid.uuid4().hex}.{kind.extension if kind else 'bin'}"


def signed_pdf_path(instance, filename: str) -> str:
    return f"signing/{instance.request.uuid}/signed-{uuid.uuid4().hex}.pdf"


class SignatureRequest(models.Model):
    """One request a client is asked to sign, with the content they will see and its hash."""

    class Kind(models.TextChoices):
        FUND_TRANSFER = "fund_transfer", _("Fund transfer")
        PRODUCT_SUBSCRIPTION = "product_subscription", _("Product subscription")
        DOCUMENT = "document", _("Document")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENT = "sent", _("Sent")
        VIEWED = "viewed", _("Viewed")
        SIGNED = "signed", _("Signed")
        DECLINED = "declined", _("Declined")
        EXPIRED = "expired", _("Expired")
        CANCELLED = "cancelled", _("Cancelled")
        PROCESSED = "processed", _("Processed")
        RETURNED = "returned", _("Returned")

    # Statuses in which the client can still sign, and the sender can still change or cancel.
    OPEN = (Status.SENT, Status.VIEWED)
    EDITABLE = (Status.DRAFT, Status.SENT, Status.VIEWED)
    # Signed, waiting for the back office, or handled by it.
    SIGNED_STATES = (Status.SIGNED, Status.PROCESSED, Status.RETURNED)

    uuid = models.UUIDField(_("reference"), default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("type"), max_length=32, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sender"),
        on_delete=models.PROTECT,
        related_name="signature_requests_sent",
    )
    # The sender's firm when the request was written: its managers follow the request.
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("client"),
        on_delete=models.PROTECT,
        related_name="signature_requests_received",
    )
    # How the sender's address book knows the person (re-checked when the request is sent).
    recipient_key = models.CharField(_("address book key"), max_length=64, blank=True)
    recipient_label = models.CharField(_("client"), max_length=200, blank=True)
    # Set by the app that created the request (e.g. "bnpl.contract" and its id); signing never reads them.
    origin = models.CharField(_("origin"), max_length=64, blank=True)
    external_reference = models.CharField(_("external reference"), max_length=100, blank=True)

    title = models.CharField(_("title"), max_length=200)
    message = models.TextField(_("text"), blank=True)
    amount = models.DecimalField(_("amount"), **MONEY, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    portfolio_reference = models.CharField(_("portfolio number"), max_length=64, blank=True)
    portfolio_label = models.CharField(_("portfolio"), max_length=200, blank=True)
    payee_name = models.CharField(_("payee"), max_length=140, blank=True)
    payee_iban = models.CharField(_("IBAN"), max_length=34, blank=True)
    payment_reference = models.CharField(_("payment reference"), max_length=140, blank=True)
    product_name = models.CharField(_("product"), max_length=200, blank=True)

    content_hash = models.CharField(_("content hash"), max_length=64, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    # The content hash the client last had in front of them; a code is only issued for that content.
    viewed_hash = models.CharField(_("content hash viewed"), max_length=64, blank=True)

    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("changed"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    viewed_at = models.DateTimeField(_("viewed"), null=True, blank=True)
    expires_at = models.DateTimeField(_("sign by"), null=True, blank=True)
    signed_at = models.DateTimeField(_("signed"), null=True, blank=True)
    declined_at = models.DateTimeField(_("declined"), null=True, blank=True)
    decline_reason = models.TextField(_("reason for declining"), blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)
    handled_at = models.DateTimeField(_("handled by the back office"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    handling_comment = models.TextField(_("back-office comment"), blank=True)

    # SignatureRequest.objects.restrict(actor, action): signing.permissions.SignatureRequestPolicy.
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("signature request")
        verbose_name_plural = _("signature requests")
        indexes = [
            models.Index(fields=["sender", "-created_at"], name="sigreq_sender_idx"),
            models.Index(fields=["organisation", "-created_at"], name="sigreq_org_idx"),
            models.Index(fields=["recipient", "-created_at"], name="sigreq_recipient_idx"),
            models.Index(fields=["status", "-signed_at"], name="sigreq_status_signed_idx"),
            models.Index(fields=["status", "expires_at"], name="sigreq_status_expiry_idx"),
            models.Index(fields=["origin", "external_reference"], name="sigreq_origin_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__isnull=True) | Q(amount__gt=0), name="sigreq_amount_positive"),
            models.CheckConstraint(
                condition=~Q(kind="fund_transfer")
                | (Q(amount__isnull=False) & ~Q(payee_iban="") & ~Q(payee_name="") & ~Q(currency="")),
                name="sigreq_transfer_complete",
            ),
            models.CheckConstraint(
                condition=~Q(kind="product_subscription")
                | (Q(amount__isnull=False) & ~Q(product_name="") & ~Q(currency="")),
                name="sigreq_subscription_complete",
            ),
        ]

    def __str__(self):
        return f"{self.title} ({self.short_reference})"

    @property
    def short_reference(self) -> str:
        return f"SR-{self.uuid.hex[:8].upper()}"

    @property
    def fingerprint(self) -> str:
        """The first 64 bits of the content hash, as the client and the PDF show them."""
        from .content import fingerprint

        return fingerprint(self.content_hash)

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE

    @property
    def is_signed(self) -> bool:
        return self.status in self.SIGNED_STATES

    def is_past_deadline(self, now=None) -> bool:
        return self.expires_at is not None and (now or timezone.now()) >= self.expires_at


class SignatureAttachment(models.Model):
    """A file the client sees and signs with the request; its SHA-256 is part of the content hash."""

    request = models.ForeignKey(
        SignatureRequest, verbose_name=_("signature request"), on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=300)
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=64)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField("SHA-256", max_length=64)
    created_at = models.DateTimeField(_("added"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self):
        return self.name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")

    @property
    def kind(self) -> uploads.FileKind:
        return uploads.kind_from_content_type(self.content_type) or uploads.UNKNOWN_KIND

    @property
    def download_name(self) -> str:
        """The name offered for download, always with the extension of the detected kind.

        Rows written before names followed the kind may hold the uploader's extension (a PDF as
        `invoice.exe`); their `name` stays as it is, because it is part of the signed content.
        """
        return uploads.upload_display_name(self.name, self.kind)


class SigningChallenge(models.Model):
    """One code round for one request: the code's keyed hash, the content it is bound to, the counters.

    A resend replaces the code (only its hash is kept) but keeps the counters; at most one
    challenge per request is active at a time (a partial unique index).
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        USED = "used", _("Used")
        DEAD = "dead", _("Too many wrong codes")
        VOID = "void", _("Void")
        EXPIRED = "expired", _("Expired")

    request = models.ForeignKey(
        SignatureRequest, verbose_name=_("signature request"), on_delete=models.CASCADE, related_name="challenges"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("client"), on_delete=models.PROTECT, related_name="+"
    )
    phone = models.CharField(_("mobile phone"), max_length=20)
    content_hash = models.CharField(_("content hash"), max_length=64)
    code_hash = models.CharField(_("code hash"), max_length=64)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.ACTIVE)
    failed_attempts = models.PositiveSmallIntegerField(_("wrong codes"), default=0)
    sends = models.PositiveSmallIntegerField(_("codes sent"), default=0)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    code_issued_at = models.DateTimeField(_("code issued"), default=timezone.now)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    # When the round ended, the secret (the code) of its SMS was destroyed in the outbox; this says when.
    redacted_at = models.DateTimeField(_("code SMS redacted"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("signing challenge")
        verbose_name_plural = _("signing challenges")
        constraints = [
            models.UniqueConstraint(
                fields=["request"], condition=Q(status="active"), name="sigchallenge_one_active_per_request"
            ),
        ]
        indexes = [models.Index(fields=["status", "ended_at"], name="sigchallenge_status_idx")]

    def __str__(self):
        return f"{self.request_id}/{self.pk} {self.status}"


class SigningCodeSend(models.Model):
    """One code SMS: counts against the per-challenge and per-phone limits; links the outbox row."""

    challenge = models.ForeignKey(
        SigningChallenge, verbose_name=_("challenge"), on_delete=models.CASCADE, related_name="code_sends"
    )
    phone = models.CharField(_("mobile phone"), max_length=20)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    outbox_message = models.ForeignKey(
        OutboxMessage, verbose_name=_("SMS"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("code SMS")
        verbose_name_plural = _("code SMS")
        indexes = [models.Index(fields=["phone", "-created_at"], name="sigsend_phone_idx")]

    def __str__(self):
        return f"{self.phone} {self.created_at:%Y-%m-%d %H:%M}"


class SigningFailure(models.Model):
    """One wrong code: counts against the client's daily limit."""

    challenge = models.ForeignKey(
        SigningChallenge, verbose_name=_("challenge"), on_delete=models.CASCADE, related_name="failures"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("client"), on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("wrong code")
        verbose_name_plural = _("wrong codes")
        indexes = [models.Index(fields=["user", "-created_at"], name="sigfailure_user_idx")]

    def __str__(self):
        return f"{self.user_id} {self.created_at:%Y-%m-%d %H:%M}"


class SigningGuard(models.Model):
    """One row per client, locked for every code request and check: their counters change one at a time."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("client"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="signing_guard",
    )
    locked_until = models.DateTimeField(_("signing locked until"), null=True, blank=True)
    locked_at = models.DateTimeField(_("signing locked"), null=True, blank=True)

    class Meta:
        verbose_name = _("signing lock")
        verbose_name_plural = _("signing locks")

    def __str__(self):
        return str(self.user_id)

    def is_locked(self, now=None) -> bool:
        return self.locked_until is not None and self.locked_until > (now or timezone.now())


class SigningPhoneGuard(models.Model):
    """One row per phone number, locked while a code SMS to it is counted and queued."""

    phone = models.CharField(_("mobile phone"), max_length=20, primary_key=True)

    class Meta:
        verbose_name = _("phone counter")
        verbose_name_plural = _("phone counters")

    def __str__(self):
        return self.phone


class SignatureEvidence(models.Model):
    """Who signed what, when, from where, with which code SMS; and the signed PDF's hash."""

    request = models.OneToOneField(
        SignatureRequest, verbose_name=_("signature request"), on_delete=models.PROTECT, related_name="evidence"
    )
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("signed by"), on_delete=models.PROTECT, related_name="+"
    )
    signer_name = models.CharField(_("name"), max_length=200)
    signer_email = models.EmailField(_("e-mail"))
    signed_at = models.DateTimeField(_("signed"))
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=400, blank=True)
    http_request_id = models.CharField(_("request id"), max_length=64, blank=True)
    masked_phone = models.CharField(_("mobile phone"), max_length=20)
    content_hash = models.CharField(_("content hash"), max_length=64)
    # The canonical content that was hashed: fields and every attachment's name, type, size and SHA-256.
    content = models.JSONField(_("signed content"))
    challenge = models.OneToOneField(
        SigningChallenge, verbose_name=_("challenge"), on_delete=models.PROTECT, related_name="evidence"
    )
    outbox_message = models.ForeignKey(
        OutboxMessage, verbose_name=_("code SMS"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sms_message_id = models.CharField(_("SMS provider message id"), max_length=255, blank=True)
    pdf = models.FileField(_("signed PDF"), upload_to=signed_pdf_path, blank=True, max_length=300)
    pdf_sha256 = models.CharField(_("signed PDF SHA-256"), max_length=64, blank=True, db_index=True)
    pdf_rendered_at = models.DateTimeField(_("PDF rendered"), null=True, blank=True)
    # When the signer first downloaded the signed PDF: until then the client zone lists it as new.
    client_downloaded_at = models.DateTimeField(_("downloaded by the client"), null=True, blank=True)

    class Meta:
        verbose_name = _("signature evidence")
        verbose_name_plural = _("signature evidence")

    def __str__(self):
        return f"{self.request} · {self.signer_email}"
