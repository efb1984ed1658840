"""Who reaches which bnpl objects: one policy per model, for pages, the API, admin, exports and tasks.

view:
- a merchant's people (role merchant, organisation = the merchant's): that merchant, its sessions,
  its orders with their lines, plans and instalments; never another merchant's, never a shopper
  profile;
- a shopper: their own profile, orders, lines, plans and instalments;
- back office, compliance and credit analysts: everything (read).
operate (capture, ship, cancel, refund an order): only the merchant's people.

Instant shopping: a merchant's buy buttons, their shipping options and the record of its order
confirmations are seen by its people (and read by bnpl staff); only its people change them. A
shopper reaches an active button by its public key alone (`bnpl.buttons.button_for_shopper`), never
through a list.
"""

from django.db.models import Q

from portal.accounts.roles import OVERSIGHT_ROLES, Role
from portal.core.policy import ALL, NOTHING, Policy, register_policy

from .models import (
    BuyButton,
    CreditAgreement,
    Instalment,
    Merchant,
    MerchantConfirmation,
    Order,
    OrderLine,
    PaymentSession,
    Plan,
    SepaMandate,
    ShippingOption,
    Shopper,
)
from .models.webhooks import WebhookAttempt, WebhookDelivery

# Staff who read every merchant's and every shopper's records.
BNPL_STAFF_ROLES = frozenset({*OVERSIGHT_ROLES, Role.CREDIT_ANALYST})


def sees_all_bnpl(actor) -> bool:
    return actor.has_role(*BNPL_STAFF_ROLES)


def merchant_organisation_id(actor) -> int | None:
    """The organisation whose merchant the actor works for, if they are a merchant's person."""
    if actor.organisation_id and actor.has_role(Role.MERCHANT):
        return actor.organisation_id
    return None


def is_merchant_user(actor) -> bool:
    return bool(actor.is_authenticated and actor.is_active and merchant_organisation_id(actor))


def _merchant_q(actor, path: str) -> Q | None:
    organisation = merchant_organisation_id(actor)
    return Q(**{f"{path}organisation_id": organisation}) if organisation else None


def _either(*scopes: Q | None) -> Q:
    present = [scope for scope in scopes if scope is not None]
    if not present:
        return NOTHING
    combined = present[0]
    for scope in present[1:]:
        combined |= scope
    return combined


class MerchantPolicy(Policy):
    model = Merchant

    def scope(self, actor, action):
        if sees_all_bnpl(actor):
            return ALL
        return _either(_merchant_q(actor, ""))


class ShopperPolicy(Policy):
    model = Shopper

    def scope(self, actor, action):
        if sees_all_bnpl(actor):
            return ALL
        return Q(user_id=actor.pk)


class SepaMandatePolicy(Policy):
    """The shopper sees their own mandates; BNPL back office sees all (collections need them)."""

    model = SepaMandate

    def scope(self, actor, action):
        if sees_all_bnpl(actor):
            return ALL
        return Q(shopper__user_id=actor.pk)


class PaymentSessionPolicy(Policy):
    model = PaymentSession

    def scope(self, actor, action):
        if sees_all_bnpl(actor):
            return ALL
        return _either(_merchant_q(actor, "merchant__"))


class OrderPolicy(Policy):
    """`path` leads from the policy's model to the order (the plan's and instalment's policies)."""

    model = Order
    actions = ("view", "operate")
    path = ""

    def scope(self, actor, action):
        merchant = _merchant_q(actor, f"{self.path}merchant__")
        if action == "operate":
            return _either(merchant)
        if sees_all_bnpl(actor):
            return ALL
        return _either(merchant, Q(**{f"{self.path}shopper__user_id": actor.pk}))


class PlanPolicy(OrderPolicy):
    model = Plan
    actions = ("view",)
    path = "order__"


class InstalmentPolicy(OrderPolicy):
    model = Instalment
    actions = ("view",)
    path = "plan__order__"


class OrderLinePolicy(Policy):
    """A line is seen by whoever sees its session or its order."""

    model = OrderLine

    def scope(self, actor, action):
        if sees_all_bnpl(actor):
            return ALL
        return _either(
            _merchant_q(actor, "session__merchant__"),
            _merchant_q(actor, "order__merchant__"),
            Q(order__shopper__user_id=actor.pk),
        )


class CreditAgreementPolicy(Policy):
    """A checkout's agreement: its shopper, and bnpl staff; the shop gets the order, not the agreement."""

    model = CreditAgreement

    def scope(self, actor, action):
        if sees_all_bnpl(actor):
            return ALL
        return Q(shopper__user_id=actor.pk)


merchants = register_policy(MerchantPolicy())
shoppers = register_policy(ShopperPolicy())
mandates = register_policy(SepaMandatePolicy())
sessions = register_policy(PaymentSessionPolicy())
orders = register_policy(OrderPolicy())
plans = register_policy(PlanPolicy())
instalments = register_policy(InstalmentPolicy())
order_lines = register_policy(OrderLinePolicy())
agreements = register_policy(CreditAgreementPolicy())


class WebhookDeliveryPolicy(Policy):
    """A merchant's webhooks: its people see them and send them again; bnpl staff read them."""

    model = WebhookDelivery
    actions = ("view", "operate")

    def scope(self, actor, action):
        merchant = _merchant_q(actor, "merchant__")
        if action == "operate":
            return _either(merchant)
        if sees_all_bnpl(actor):
            return ALL
        return _either(merchant)


class WebhookAttemptPolicy(Policy):
    model = WebhookAttempt

    def scope(self, actor, action):
        if sees_all_bnpl(actor):
            return ALL
        return _either(_merchant_q(actor, "delivery__merchant__"))


webhook_deliveries = register_policy(WebhookDeliveryPolicy())
webhook_attempts = register_policy(WebhookAttemptPolicy())


class BuyButtonPolicy(Policy):
    """`path` leads from the policy's model to the merchant (the shipping options' and confirmations' policies)."""

    model = BuyButton
    actions = ("view", "operate")
    path = "merchant__"

    def scope(self, actor, action):
        merchant = _merchant_q(actor, self.path)
        if action == "view" and sees_all_bnpl(actor):
            return ALL
        return _either(merchant)


class ShippingOptionPolicy(BuyButtonPolicy):
    model = ShippingOption
    actions = ("view",)
    path = "button__merchant__"


class MerchantConfirmationPolicy(BuyButtonPolicy):
    model = MerchantConfirmation
    actions = ("view",)


buy_buttons = register_policy(BuyButtonPolicy())
shipping_options = register_policy(ShippingOptionPolicy())
merchant_confirmations = register_policy(MerchantConfirmationPolicy())
