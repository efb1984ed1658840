"""Shipment tracking: which parcels we asked a carrier (through Shippo) to follow, and what we heard.

`TrackedShipment` is one registration per carrier and tracking number: it keeps a second
registration from asking Shippo again (Shippo's tracking webhooks are not idempotent; each
registration may send its own notifications) and gives the carrier simulator its clock.
`ShipmentEvent` is one status the carrier reported, stored once (docs/bnpl-tracking.md).
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TrackingState(models.TextChoices):
    """Our names for Shippo's six tracking statuses (PRE_TRANSIT, TRANSIT, DELIVERED, …)."""

    PRE_TRANSIT = "pre_transit", _("Label created")
    IN_TRANSIT = "in_transit", _("In transit")
    DELIVERED = "delivered", _("Delivered")
    RETURNED = "returned", _("Returned to sender")
    FAILURE = "failure", _("Delivery failed")
    UNKNOWN = "unknown", _("No information yet")


class TrackedShipment(models.Model):
    class Provider(models.TextChoices):
        SHIPPO = "shippo", _("Shippo")
        SIMULATOR = "simulator", _("Carrier simulator")

    carrier = models.CharField(_("carrier"), max_length=50)
    tracking_number = models.CharField(_("tracking number"), max_length=100)
    metadata = models.CharField(_("metadata"), max_length=100, blank=True)
    provider = models.CharField(_("provider"), max_length=20, choices=Provider.choices)
    registered_at = models.DateTimeField(_("registered at"), default=timezone.now)

    class Meta:
        verbose_name = _("tracked shipment")
        verbose_name_plural = _("tracked shipments")
        constraints = [
            models.UniqueConstraint(fields=["carrier", "tracking_number"], name="bnpl_tracked_shipment_unique"),
        ]

    def __str__(self):
        return f"{self.carrier} {self.tracking_number}"


class ShipmentEvent(models.Model):
    """A tracking status as the carrier reported it, once.

    Shippo's `track_updated` event carries no event id, so `event_key` is built from what makes a
    status report the same one again: carrier, tracking number, status and the carrier's
    `status_date`. A redelivered webhook, or the same status read twice by polling, finds the key
    taken and stores nothing.
    """

    class Source(models.TextChoices):
        WEBHOOK = "webhook", _("Shippo webhook")
        POLL = "poll", _("Status query")

    carrier = models.CharField(_("carrier"), max_length=50)
    tracking_number = models.CharField(_("tracking number"), max_length=100)
    status = models.CharField(_("status"), max_length=20, choices=TrackingState.choices)
    status_details = models.TextField(_("status details"), blank=True)
    status_date = models.DateTimeField(_("status date"))
    location = models.CharField(_("location"), max_length=200, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    payload = models.JSONField(_("payload"), default=dict)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    event_key = models.CharField(_("event key"), max_length=255, unique=True)

    class Meta:
        verbose_name = _("shipment event")
        verbose_name_plural = _("shipment events")
        indexes = [
            models.Index(fields=["carrier", "tracking_number", "status_date"], name="bnpl_shipevent_number_idx"),
        ]

    def __str__(self):
        return f"{self.carrier} {self.tracking_number}: {self.status}"
