"""bnpl's models, one module per area; each is imported here so Django finds it."""

from .tracking import ShipmentEvent, TrackedShipment, TrackingState

__all__ = ["ShipmentEvent", "TrackedShipment", "TrackingState"]
