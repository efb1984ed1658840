"""bnpl's models, one module per area; each is imported here so Django finds it."""

from .agreements import CreditAgreement
from .decisions import CreditDecision, CreditRule, CreditRuleSet, Operator
from .fees import CustomerGroup, FeeCharge, FeeSchedule, FeeStatus, FeeStatusChange, FeeStatusKind, FeeStatusRule
from .mandates import SepaMandate
from .merchants import Merchant, Shopper
from .orders import Locale, Order, OrderLine, PaymentSession
from .plans import Instalment, Plan
from .tracking import ShipmentEvent, TrackedShipment, TrackingState
from .webhooks import WebhookAttempt, WebhookDelivery, WebhookEvent

__all__ = [
    "CreditAgreement",
    "CreditDecision",
    "CreditRule",
    "CreditRuleSet",
    "CustomerGroup",
    "FeeCharge",
    "FeeSchedule",
    "FeeStatus",
    "FeeStatusChange",
    "FeeStatusKind",
    "FeeStatusRule",
    "Instalment",
    "Locale",
    "Merchant",
    "Operator",
    "Order",
    "OrderLine",
    "PaymentSession",
    "Plan",
    "SepaMandate",
    "ShipmentEvent",
    "Shopper",
    "TrackedShipment",
    "TrackingState",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEvent",
]
