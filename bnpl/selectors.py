"""Reads of bnpl, always through the policies in `permissions.py`."""

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from .models import BuyButton, Instalment, Merchant, MerchantConfirmation, Order, PaymentSession, Plan
from .permissions import merchant_organisation_id


def merchant_of(*, actor) -> Merchant | None:
    """The merchant the actor works for (whether active or not), else None."""
    organisation = merchant_organisation_id(actor)
    if organisation is None:
        return None
    return Merchant.objects.filter(organisation_id=organisation).first()


def session_list(*, actor) -> QuerySet[PaymentSession]:
    return PaymentSession.objects.restrict(actor).select_related("merchant", "button").prefetch_related("lines")


def open_session_list(*, actor) -> QuerySet[PaymentSession]:
    """The actor's sessions still open now (not used, not past their expiry), newest first."""
    return PaymentSession.objects.restrict(actor).filter(state=PaymentSession.State.OPEN, expires_at__gt=timezone.now())


def access_session(*, actor, session_id) -> PaymentSession:
    """One session of the actor's; a foreign or unknown one does not exist (404)."""
    session = session_list(actor=actor).filter(pk=session_id).first()
    if session is None:
        raise Http404
    return session


def order_list(*, actor) -> QuerySet[Order]:
    return Order.objects.restrict(actor).select_related("merchant", "shopper__user", "plan")


def access_order(*, actor, order_id, action: str = "view") -> Order:
    order = (
        Order.objects.restrict(actor, action)
        .select_related("merchant", "shopper__user", "plan")
        .prefetch_related("lines", "plan__instalments")
        .filter(pk=order_id)
        .first()
    )
    if order is None:
        raise Http404
    return order


def plan_list(*, actor) -> QuerySet[Plan]:
    return Plan.objects.restrict(actor).select_related("order__merchant", "order__shopper__user")


def instalment_list(*, actor) -> QuerySet[Instalment]:
    return Instalment.objects.restrict(actor).select_related("plan__order")


# --- Instant shopping --------------------------------------------------------------------------------


def button_list(*, actor, action: str = "view") -> QuerySet[BuyButton]:
    return BuyButton.objects.restrict(actor, action).select_related("merchant").prefetch_related("shipping_options")


def access_button(*, actor, button_id, action: str = "view") -> BuyButton:
    """One of the actor's buttons; a foreign or unknown one does not exist (404)."""
    button = button_list(actor=actor, action=action).filter(pk=button_id).first()
    if button is None:
        raise Http404
    return button


def button_for_shopper(*, key: str) -> BuyButton | None:
    """The button behind a public link, if it is on offer (active, of an active merchant); anyone logged in
    may open it, by its unguessable key only."""
    return (
        BuyButton.objects.select_related("merchant")
        .prefetch_related("shipping_options")
        .filter(key=key, active=True, merchant__active=True)
        .first()
    )


def confirmation_list(*, actor) -> QuerySet[MerchantConfirmation]:
    """What the actor's merchant was asked about instant purchases, newest first."""
    return MerchantConfirmation.objects.restrict(actor).select_related("session__button")
