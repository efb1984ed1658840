"""Who sells and who buys: merchants (a portal organisation of kind merchant) and shoppers."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.core.policy import RestrictedQuerySet

from ..money import CURRENCY_CHOICES, MONEY, currency_check


class Merchant(models.Model):
    """A partner shop offering BNPL at its checkout; its people are the organisation's merchant users.

    The webhook secret signs the events sent to `webhook_url` (HMAC-SHA256), so bnpl must be able to
    read it: it is kept sealed (Fernet, under a key derived from SECRET_KEY) rather than hashed, and
    shown to the merchant once, when it is made (`services.merchant_create`, `…_webhook_secret_rotate`).
    `webhook_secret_prefix` is its visible start, by which people recognise it.
    """

    organisation = models.OneToOneField(
        "accounts.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="bnpl_merchant",
        limit_choices_to={"kind": "merchant"},
    )
    trading_name = models.CharField(_("trading name"), max_length=200)
    webhook_url = models.URLField(_("webhook URL"), max_length=500, blank=True)
    webhook_secret_sealed = models.TextField(_("webhook secret (sealed)"), editable=False)
    webhook_secret_prefix = models.CharField(_("webhook secret"), max_length=20, editable=False)
    # Where bnpl asks the shop to confirm an instant purchase before placing it (bnpl/instant.py);
    # empty: instant purchases are confirmed by default.
    confirmation_url = models.URLField(_("order confirmation URL"), max_length=500, blank=True)
    default_currency = models.CharField(_("default currency"), max_length=3, choices=CURRENCY_CHOICES, default="EUR")
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["trading_name", "id"]
        verbose_name = _("merchant")
        verbose_name_plural = _("merchants")
        constraints = [
            models.CheckConstraint(condition=currency_check("default_currency"), name="bnpl_merchant_currency_iso"),
        ]

    def __str__(self):
        return self.trading_name

    def webhook_secret(self) -> str:
        """The secret in clear, for signing a webhook (never for showing it again)."""
        from portal.notifications.sealed import secret_open

        return secret_open(self.webhook_secret_sealed)


class Shopper(models.Model):
    """A portal user's profile as a BNPL customer: where they live, their age, limit and KYC."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="bnpl_shopper"
    )
    # ISO 3166-2 subdivision ("DE-BY") or a country ("DE"): fee rules and credit rules read it.
    region = models.CharField(_("region"), max_length=10, blank=True)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    purchase_limit = models.DecimalField(_("purchase limit"), **MONEY, default=0)
    purchase_limit_currency = models.CharField(
        _("purchase limit currency"), max_length=3, choices=CURRENCY_CHOICES, default="EUR"
    )
    customer_group = models.ForeignKey(
        "bnpl.CustomerGroup",
        verbose_name=_("customer group"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="shoppers",
    )
    kyc_passed = models.BooleanField(_("KYC passed"), default=False)
    kyc_passed_at = models.DateTimeField(_("KYC passed on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["user__email"]
        verbose_name = _("shopper")
        verbose_name_plural = _("shoppers")
        constraints = [
            models.CheckConstraint(condition=Q(purchase_limit__gte=0), name="bnpl_shopper_limit_not_negative"),
            models.CheckConstraint(
                condition=currency_check("purchase_limit_currency"), name="bnpl_shopper_currency_iso"
            ),
            models.CheckConstraint(
                condition=Q(kyc_passed=False) | Q(kyc_passed_at__isnull=False), name="bnpl_shopper_kyc_dated"
            ),
            models.CheckConstraint(
                condition=Q(region="") | Q(region__regex=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$"),
                name="bnpl_shopper_region_iso",
            ),
        ]

    def __str__(self):
        return str(self.user)
