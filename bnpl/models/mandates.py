"""A shopper's SEPA direct debit mandate: the account their instalments are collected from."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.core.policy import RestrictedQuerySet


class SepaMandate(models.Model):
    """The shopper's permission to collect from their account (SEPA Core, recurring).

    One active mandate per shopper: granting a new one revokes the old (the bank needs the
    mandate reference and signature date of the one a collection is made under, so old ones stay).
    `first_collected_at` decides the sequence type in the pain.008 file: FRST until a collection
    went out under it, RCUR afterwards.
    """

    class State(models.TextChoices):
        ACTIVE = "active", _("Active")
        REVOKED = "revoked", _("Revoked")

    shopper = models.ForeignKey(
        "bnpl.Shopper", verbose_name=_("shopper"), on_delete=models.PROTECT, related_name="mandates"
    )
    # The unique mandate reference (UMR): at most 35 characters of the SEPA character set.
    reference = models.CharField(_("mandate reference"), max_length=35, unique=True)
    account_holder = models.CharField(_("account holder"), max_length=70)
    iban = models.CharField(_("IBAN"), max_length=34)
    bic = models.CharField(_("BIC"), max_length=11, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.ACTIVE)
    signed_at = models.DateTimeField(_("signed"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    first_collected_at = models.DateTimeField(_("first collected"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-signed_at", "-id"]
        verbose_name = _("SEPA mandate")
        verbose_name_plural = _("SEPA mandates")
        constraints = [
            models.UniqueConstraint(
                fields=["shopper"], condition=Q(state="active"), name="bnpl_mandate_one_active_per_shopper"
            ),
            models.CheckConstraint(
                condition=~Q(state="revoked") | Q(revoked_at__isnull=False), name="bnpl_mandate_revoked_dated"
            ),
        ]

    def __str__(self):
        return f"{self.reference} ({self.masked_iban})"

    @property
    def masked_iban(self) -> str:
        """The IBAN as pages show it: country, check digits and the last four characters."""
        return f"{self.iban[:4]} •••• {self.iban[-4:]}" if len(self.iban) > 8 else self.iban

    @property
    def sequence(self) -> str:
        return "RCUR" if self.first_collected_at else "FRST"
