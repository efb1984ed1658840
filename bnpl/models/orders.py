"""A merchant's payment sessions (an offer of BNPL at its checkout), their order lines, and orders."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.core.policy import RestrictedQuerySet

from ..money import MONEY, currency_check


class Locale(models.TextChoices):
    EN = "en", _("English")
    DE = "de", _("German")
    RU = "ru", _("Russian")


class PaymentSession(models.Model):
    """What a merchant's server asks for at checkout: an amount with its lines, for one shopper.

    `token` is the unguessable part of the hosted checkout URL. A session is open until
    `expires_at`, used once an order is placed from it; the stored state stays `open` after expiry
    until something writes it, so read `current_state()`.
    """

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        USED = "used", _("Used")
        EXPIRED = "expired", _("Expired")

    merchant = models.ForeignKey(
        "bnpl.Merchant", verbose_name=_("merchant"), on_delete=models.PROTECT, related_name="sessions"
    )
    token = models.CharField(_("token"), max_length=64, unique=True, editable=False)
    amount = models.DecimalField(_("amount"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3)
    shopper_email = models.EmailField(_("shopper's e-mail"))
    locale = models.CharField(_("language"), max_length=5, choices=Locale.choices, default=Locale.EN)
    reference = models.CharField(_("order reference"), max_length=64)
    # Where the checkout sends the shopper back to the shop (approved, expired); optional.
    return_url = models.URLField(_("return URL"), max_length=500, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    expires_at = models.DateTimeField(_("expires"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # The buy button the shopper bought from (instant shopping); None for a session the shop's server opened.
    button = models.ForeignKey(
        "bnpl.BuyButton",
        verbose_name=_("buy button"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sessions",
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("payment session")
        verbose_name_plural = _("payment sessions")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="bnpl_session_amount_positive"),
            models.CheckConstraint(condition=currency_check(), name="bnpl_session_currency_iso"),
            models.CheckConstraint(condition=Q(expires_at__gt=models.F("created_at")), name="bnpl_session_expiry"),
        ]
        indexes = [models.Index(fields=["merchant", "-created_at"], name="bnpl_session_merchant_idx")]

    def __str__(self):
        return f"{self.reference} ({self.amount} {self.currency})"

    def current_state(self, now=None) -> str:
        """The state as of `now`: an open session past its expiry reads expired."""
        now = now or timezone.now()
        if self.state == self.State.OPEN and self.expires_at <= now:
            return self.State.EXPIRED
        return self.state

    def is_open(self, now=None) -> bool:
        return self.current_state(now) == self.State.OPEN


class Order(models.Model):
    """A purchase on credit: placed from a session (or an instant-shopping button) by a shopper."""

    class State(models.TextChoices):
        PENDING_DECISION = "pending_decision", _("Waiting for the credit decision")
        IN_REVIEW = "in_review", _("In manual review")
        APPROVED = "approved", _("Approved")
        DECLINED = "declined", _("Declined")
        CAPTURED = "captured", _("Captured")
        SHIPPED = "shipped", _("Shipped")
        CANCELLED = "cancelled", _("Cancelled")
        REFUNDED = "refunded", _("Refunded")
        PARTLY_REFUNDED = "partly_refunded", _("Partly refunded")

    merchant = models.ForeignKey(
        "bnpl.Merchant", verbose_name=_("merchant"), on_delete=models.PROTECT, related_name="orders"
    )
    shopper = models.ForeignKey(
        "bnpl.Shopper", verbose_name=_("shopper"), on_delete=models.PROTECT, related_name="orders"
    )
    # None for a purchase placed without a session (instant shopping opens one too: `session.button`).
    session = models.OneToOneField(
        PaymentSession,
        verbose_name=_("payment session"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="order",
    )
    reference = models.CharField(_("order reference"), max_length=64)
    amount = models.DecimalField(_("amount"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3)
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.PENDING_DECISION)
    # The payment option chosen at checkout (bnpl.pricing: "pay_in_4", "monthly_12", …).
    option_key = models.CharField(_("payment option"), max_length=32)
    refunded_amount = models.DecimalField(_("refunded"), **MONEY, default=0)
    shipped_at = models.DateTimeField(_("shipped"), null=True, blank=True)
    carrier = models.CharField(_("carrier"), max_length=50, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=100, blank=True)
    # The carrier's latest status of the parcel (a bnpl.models.TrackingState value), empty until it reports.
    tracking_status = models.CharField(_("tracking status"), max_length=20, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "reference"], name="bnpl_order_reference_per_merchant"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="bnpl_order_amount_positive"),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0) & Q(refunded_amount__lte=models.F("amount")),
                name="bnpl_order_refund_within_amount",
            ),
            models.CheckConstraint(condition=currency_check(), name="bnpl_order_currency_iso"),
            models.CheckConstraint(
                condition=~Q(state="shipped") | Q(shipped_at__isnull=False), name="bnpl_order_shipped_dated"
            ),
        ]
        indexes = [
            models.Index(fields=["merchant", "-created_at"], name="bnpl_order_merchant_idx"),
            models.Index(fields=["shopper", "-created_at"], name="bnpl_order_shopper_idx"),
            models.Index(fields=["state"], name="bnpl_order_state_idx"),
            models.Index(fields=["carrier", "tracking_number"], name="bnpl_order_tracking_idx"),
        ]

    def __str__(self):
        return f"{self.reference} ({self.amount} {self.currency})"


class OrderLine(models.Model):
    """One line of a session, and of the order placed from it (the same row then belongs to both)."""

    session = models.ForeignKey(
        PaymentSession,
        verbose_name=_("payment session"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="lines",
    )
    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.PROTECT, null=True, blank=True, related_name="lines"
    )
    position = models.PositiveSmallIntegerField(_("position"), default=1)
    name = models.CharField(_("name"), max_length=200)
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price = models.DecimalField(_("unit price"), **MONEY)
    # Percent, VAT included in the unit price (19.00 for 19 %).
    tax_rate = models.DecimalField(_("tax rate"), max_digits=5, decimal_places=2, default=0)
    line_total = models.DecimalField(_("line total"), **MONEY)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.CheckConstraint(
                condition=Q(session__isnull=False) | Q(order__isnull=False), name="bnpl_line_belongs_somewhere"
            ),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="bnpl_line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0) & Q(line_total__gte=0), name="bnpl_line_amounts_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(tax_rate__gte=0) & Q(tax_rate__lte=100), name="bnpl_line_tax_rate_percent"
            ),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.name}"
