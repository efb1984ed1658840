"""bnpl's models, one module per area; each is imported here so Django finds it."""

from .agreements import CreditAgreement
from .collections import BankStatement, CollectionItem, CollectionRun, DunningNotice, StatementLine
from .decisions import CreditDecision, CreditRule, CreditRuleSet, Operator
from .fees import CustomerGroup, FeeCharge, FeeSchedule, FeeStatus, FeeStatusChange, FeeStatusKind, FeeStatusRule
from .instant import BuyButton, MerchantConfirmation, ShippingOption
from .mandates import SepaMandate
from .merchants import Merchant, Shopper
from .orders import Locale, Order, OrderLine, PaymentSession
from .plans import Instalment, Plan
from .tracking import ShipmentEvent, TrackedShipment, TrackingState
from .webhooks import WebhookAttempt, WebhookDelivery, WebhookEvent

__all__ = [
    "BankStatement",
    "BuyButton",
    "CollectionItem",
    "CollectionRun",
    "CreditAgreement",
    "CreditDecision",
    "CreditRule",
    "CreditRuleSet",
    "CustomerGroup",
    "DunningNotice",
    "FeeCharge",
    "FeeSchedule",
    "FeeStatus",
    "FeeStatusChange",
    "FeeStatusKind",
    "FeeStatusRule",
    "Instalment",
    "Locale",
    "Merchant",
    "MerchantConfirmation",
    "Operator",
    "Order",
    "OrderLine",
    "PaymentSession",
    "Plan",
    "SepaMandate",
    "ShipmentEvent",
    "ShippingOption",
    "Shopper",
    "StatementLine",
    "TrackedShipment",
    "TrackingState",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEvent",
]
