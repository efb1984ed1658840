"""Webhooks to a merchant's server: one delivery per order event, and every attempt to deliver it."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.core.policy import RestrictedQuerySet


class WebhookEvent(models.TextChoices):
    ORDER_APPROVED = "order.approved", "order.approved"
    ORDER_DECLINED = "order.declined", "order.declined"
    ORDER_CAPTURED = "order.captured", "order.captured"
    ORDER_SHIPPED = "order.shipped", "order.shipped"
    ORDER_CANCELLED = "order.cancelled", "order.cancelled"
    ORDER_REFUNDED = "order.refunded", "order.refunded"
    ORDER_TRACKING_UPDATED = "order.tracking_updated", "order.tracking_updated"
    ORDER_DISPUTE_DECIDED = "order.dispute_decided", "order.dispute_decided"


class WebhookDelivery(models.Model):
    """One event for a merchant's webhook URL, delivered at least once (the receiver dedupes on the id).

    pending: waiting for its first attempt (or sent again by the merchant); sending: a worker has it;
    failed: the last attempt failed, the next is due at `next_attempt_at`; delivered: answered 2xx;
    given_up: `give_up_after` attempts failed (or the URL is refused): only "Send again" moves it.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        FAILED = "failed", _("Failed, will retry")
        DELIVERED = "delivered", _("Delivered")
        GIVEN_UP = "given_up", _("Given up")

    merchant = models.ForeignKey(
        "bnpl.Merchant", verbose_name=_("merchant"), on_delete=models.PROTECT, related_name="webhook_deliveries"
    )
    event = models.CharField(_("event"), max_length=40, choices=WebhookEvent.choices)
    order = models.ForeignKey(
        "bnpl.Order",
        verbose_name=_("order"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="webhook_deliveries",
    )
    payload = models.JSONField(_("payload"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    # Attempts count across "Send again": the delivery is given up when `attempts` reaches this.
    give_up_after = models.PositiveIntegerField(_("give up after attempts"), default=8)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last HTTP status"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="delivered") | Q(delivered_at__isnull=False), name="bnpl_webhook_delivered_dated"
            ),
            models.CheckConstraint(
                condition=~Q(state="sending") | Q(claimed_at__isnull=False), name="bnpl_webhook_sending_claimed"
            ),
        ]
        indexes = [
            models.Index(fields=["merchant", "-created_at"], name="bnpl_webhook_merchant_idx"),
            models.Index(
                fields=["next_attempt_at"],
                name="bnpl_webhook_due_idx",
                condition=Q(state__in=["pending", "failed"]),
            ),
        ]

    def __str__(self):
        return f"{self.event} #{self.pk}"


class WebhookAttempt(models.Model):
    """One POST to the merchant's URL: what came back (a status code) or why nothing did (an error)."""

    delivery = models.ForeignKey(
        WebhookDelivery, verbose_name=_("delivery"), on_delete=models.CASCADE, related_name="attempt_log"
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    url = models.CharField(_("URL"), max_length=500, blank=True)
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        indexes = [models.Index(fields=["delivery", "-at"], name="bnpl_webhook_attempt_idx")]

    def __str__(self):
        return f"{self.delivery_id} @ {self.at:%Y-%m-%d %H:%M:%S}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
