"""Instant shopping: a merchant's buy buttons (a product with a price and shipping options) and the
record of every time bnpl asked the merchant's server to confirm an order before placing it."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.core.policy import RestrictedQuerySet

from ..money import CURRENCY_CHOICES, MONEY, currency_check


class BuyButton(models.Model):
    """One product a shopper buys in one step at `/bnpl/buy/<key>/`.

    `key` is public (it is in the merchant's page) but unguessable, so nobody finds a shop's buttons
    by counting. A button is never deleted once sessions point at it: it is switched off (`active`).
    """

    merchant = models.ForeignKey(
        "bnpl.Merchant", verbose_name=_("merchant"), on_delete=models.PROTECT, related_name="buy_buttons"
    )
    key = models.CharField(_("button key"), max_length=64, unique=True, editable=False)
    name = models.CharField(_("product name"), max_length=200)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    image_url = models.URLField(_("image URL"), max_length=500, blank=True)
    unit_price = models.DecimalField(_("unit price"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES, default="EUR")
    # Percent, VAT included in the prices (19.00 for 19 %); the shipping line carries the same rate.
    tax_rate = models.DecimalField(_("tax rate"), max_digits=5, decimal_places=2, default=0)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.SET_NULL, null=True, related_name="+"
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("buy button")
        verbose_name_plural = _("buy buttons")
        constraints = [
            models.CheckConstraint(condition=Q(unit_price__gt=0), name="bnpl_button_price_positive"),
            models.CheckConstraint(condition=currency_check(), name="bnpl_button_currency_iso"),
            models.CheckConstraint(
                condition=Q(tax_rate__gte=0) & Q(tax_rate__lte=100), name="bnpl_button_tax_rate_percent"
            ),
        ]
        indexes = [models.Index(fields=["merchant", "-created_at"], name="bnpl_button_merchant_idx")]

    def __str__(self):
        return f"{self.name} ({self.unit_price} {self.currency})"


class ShippingOption(models.Model):
    """One way a button's product reaches the shopper, at a price in the button's currency."""

    button = models.ForeignKey(
        BuyButton, verbose_name=_("buy button"), on_delete=models.CASCADE, related_name="shipping_options"
    )
    position = models.PositiveSmallIntegerField(_("position"), default=1)
    name = models.CharField(_("name"), max_length=100)
    price = models.DecimalField(_("price"), **MONEY)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("shipping option")
        verbose_name_plural = _("shipping options")
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="bnpl_shipping_price_not_negative"),
            models.UniqueConstraint(fields=["button", "name"], name="bnpl_shipping_name_per_button"),
        ]

    def __str__(self):
        return f"{self.name} ({self.price})"


class MerchantConfirmation(models.Model):
    """One question to the merchant's server, "may this order be placed?", and its answer.

    Written whatever happened (confirmed, declined, no answer in time, an error, a garbled answer),
    so the merchant sees in the dashboard why an instant purchase did or did not go through.
    """

    class Outcome(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        CONFIRMED_BY_DEFAULT = "default", _("Confirmed (no callback URL set)")
        DECLINED = "declined", _("Declined by the merchant")
        TIMEOUT = "timeout", _("No answer in time")
        UNREACHABLE = "unreachable", _("Not reachable")
        SERVER_ERROR = "server_error", _("Error answer")
        BAD_ANSWER = "bad_answer", _("Answer not understood")
        REFUSED = "refused", _("Address refused")

    merchant = models.ForeignKey(
        "bnpl.Merchant", verbose_name=_("merchant"), on_delete=models.PROTECT, related_name="confirmations"
    )
    session = models.ForeignKey(
        "bnpl.PaymentSession", verbose_name=_("payment session"), on_delete=models.PROTECT, related_name="confirmations"
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    url = models.CharField(_("URL"), max_length=500, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    merchant_order_id = models.CharField(_("merchant's order id"), max_length=100, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("merchant confirmation")
        verbose_name_plural = _("merchant confirmations")
        indexes = [models.Index(fields=["merchant", "-at"], name="bnpl_confirmation_merchant_idx")]

    def __str__(self):
        return f"{self.session_id}: {self.outcome}"

    @property
    def confirmed(self) -> bool:
        return self.outcome in (self.Outcome.CONFIRMED, self.Outcome.CONFIRMED_BY_DEFAULT)
