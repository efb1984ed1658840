from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import UserObjectPermissionBase

from portal.core.policy import RestrictedQuerySet


class Client(models.Model):
    """An end client of the dealer, as delivered by the core system.

    `advisor` is the portal user (an intermediary) the client is assigned to; other brokers see
    the client only through an explicit object permission granted by their firm manager.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        INACTIVE = "inactive", _("Inactive")
        CLOSED = "closed", _("Closed")

    number = models.CharField(_("client number"), max_length=32, unique=True)
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    street = models.CharField(_("street"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=16, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("advisor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="advised_clients",
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("portal login"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="client_profile",
    )
    # Denormalised for the book's lists: kept by the valuation task, read by pages.
    assets = models.DecimalField(_("assets"), max_digits=20, decimal_places=2, default=0)
    assets_currency = models.CharField(_("currency"), max_length=3, default="EUR")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Client.objects.restrict(actor, action): the rows clients.permissions.ClientPolicy allows.
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name", "number"]
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        indexes = [
            models.Index(fields=["advisor", "last_name", "first_name"], name="client_advisor_name_idx"),
            models.Index(fields=["advisor", "-assets"], name="client_advisor_assets_idx"),
        ]

    def __str__(self):
        return f"{self.first_name} {self.last_name} ({self.number})"

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class ClientUserObjectPermission(UserObjectPermissionBase):
    """A direct foreign key for guardian's object permissions: a share is one indexed join."""

    content_object = models.ForeignKey(Client, on_delete=models.CASCADE)


def _export_path(instance, filename) -> str:
    # Unguessable, and the same for every attempt of one export: a retry overwrites, never piles up.
    return f"clients/exports/{instance.user_id}/{instance.pk}-{instance.token}.zip"


class DataExport(models.Model):
    """A client's "download my data" (GDPR Art. 15/20): a ZIP built by Celery, kept for 7 days.

    Only the user who asked can download it (`permissions.DataExportPolicy`); a sweep deletes the
    file when it expires.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        BUILDING = "building", _("Being prepared")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Expired")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.CASCADE, related_name="data_exports"
    )
    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="data_exports")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    token = models.CharField(max_length=32, editable=False)
    created_at = models.DateTimeField(_("requested"), default=timezone.now)
    # When the build was last handed to the broker: one queued long ago and never taken is queued again.
    queued_at = models.DateTimeField(_("queued"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    expires_at = models.DateTimeField(_("available until"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.CharField(_("error"), max_length=300, blank=True)
    file = models.FileField(_("ZIP file"), upload_to=_export_path, blank=True, max_length=300)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    downloaded_at = models.DateTimeField(_("last downloaded"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("data export")
        verbose_name_plural = _("data exports")
        indexes = [
            models.Index(fields=["user", "-created_at"], name="dataexport_user_idx"),
            models.Index(fields=["status", "expires_at"], name="dataexport_status_idx"),
        ]
        constraints = [
            # One export in the making per user: asking again while it is prepared changes nothing.
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(status__in=["queued", "building"]), name="dataexport_one_pending"
            ),
        ]

    def __str__(self):
        return f"{self.client_id} {self.created_at:%Y-%m-%d %H:%M} {self.status}"

    @property
    def pending(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.BUILDING)

    def is_downloadable(self, now=None) -> bool:
        now = now or timezone.now()
        return (
            self.status == self.Status.READY
            and bool(self.file)
            and self.expires_at is not None
            and now < self.expires_at
        )

    @property
    def download_name(self) -> str:
        return f"partnerzone-my-data-{self.created_at:%Y-%m-%d}.zip"
