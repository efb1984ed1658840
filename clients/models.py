from django.conf import settings
from django.db import models
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
