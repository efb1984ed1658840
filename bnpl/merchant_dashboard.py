"""Reads of the merchant dashboard: settlement totals and webhook deliveries, scoped to the actor."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, Prefetch, QuerySet, Sum

from .models import Order, WebhookAttempt, WebhookDelivery
from .money import money_round

# Orders whose money the merchant has been paid for (captured, whatever happened after).
SETTLED_STATES = (
    Order.State.CAPTURED,
    Order.State.SHIPPED,
    Order.State.PARTLY_REFUNDED,
    Order.State.REFUNDED,
)


@dataclass(frozen=True)
class SettlementTotal:
    currency: str
    orders: int
    captured: Decimal
    refunded: Decimal

    @property
    def net(self) -> Decimal:
        return money_round(self.captured - self.refunded, self.currency)


def settlement_totals(*, actor, start: date | None = None, end: date | None = None) -> list[SettlementTotal]:
    """Captured minus refunded per currency over the actor's captured orders created in [start, end].

    One query. The period counts by the order's creation day (orders carry no capture date yet).
    """
    orders = Order.objects.restrict(actor).filter(state__in=SETTLED_STATES)
    if start:
        orders = orders.filter(created_at__date__gte=start)
    if end:
        orders = orders.filter(created_at__date__lte=end)
    rows = (
        orders.order_by()
        .values("currency")
        .annotate(orders=Count("id"), captured=Sum("amount"), refunded=Sum("refunded_amount"))
        .order_by("currency")
    )
    return [
        SettlementTotal(
            currency=row["currency"],
            orders=row["orders"],
            captured=money_round(row["captured"] or Decimal(0), row["currency"]),
            refunded=money_round(row["refunded"] or Decimal(0), row["currency"]),
        )
        for row in rows
    ]


def webhook_delivery_list(*, actor, state: str = "") -> QuerySet[WebhookDelivery]:
    """The actor's webhook deliveries, newest first, each with its attempts (newest first) in `attempt_log`."""
    deliveries = WebhookDelivery.objects.restrict(actor).select_related("order", "merchant")
    if state:
        deliveries = deliveries.filter(state=state)
    return deliveries.prefetch_related(Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("-at", "-id")))
