"""The credit agreement a shopper accepts at the hosted checkout (bnpl/checkout.py)."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.core.policy import RestrictedQuerySet


class CreditAgreement(models.Model):
    """What the shopper of one payment session is about to sign: the option and its figures.

    `content` is the canonical document (creditor, shopper, lines, option, amounts, schedule, the
    direct debit account) and `content_hash` its SHA-256; the signing request's text carries that
    hash, so the SMS code is bound to exactly these figures. Re-pricing the session or choosing
    another option gives another document: `content_hash` is emptied until the shopper reads the new
    one, and the signing request is rewritten (which voids its codes).
    """

    session = models.OneToOneField(
        "bnpl.PaymentSession", verbose_name=_("payment session"), on_delete=models.CASCADE, related_name="agreement"
    )
    shopper = models.ForeignKey(
        "bnpl.Shopper", verbose_name=_("shopper"), on_delete=models.PROTECT, related_name="agreements"
    )
    option_key = models.CharField(_("payment option"), max_length=32)
    content = models.JSONField(_("agreement content"), default=dict, blank=True)
    content_hash = models.CharField(_("content hash"), max_length=64, blank=True)
    signature_request = models.OneToOneField(
        "signing.SignatureRequest",
        verbose_name=_("signature request"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("changed"), default=timezone.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("credit agreement")
        verbose_name_plural = _("credit agreements")

    def __str__(self):
        return f"{self.session} · {self.option_key}"
