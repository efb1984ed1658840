"""The demo's orders: Delta Shop has one in every state for client2, shipped ones with their plan; a re-run adds none."""

import io

import pytest
from django.utils import timezone

from bnpl.demo import demo_step
from bnpl.models import Order, Plan
from portal.shell.demo import cast_ensure

pytestmark = pytest.mark.django_db


def test_the_demo_places_delta_orders_in_every_state_once(settings):
    settings.SHIPPO_API_KEY = ""
    cast_ensure()
    demo_step(scale="small", stdout=io.StringIO())
    first = list(Order.objects.order_by("reference").values_list("reference", "state", "refunded_amount"))

    demo_step(scale="small", stdout=io.StringIO())

    assert list(Order.objects.order_by("reference").values_list("reference", "state", "refunded_amount")) == first
    delta = Order.objects.filter(merchant__trading_name="Delta Shop", shopper__user__email="client2@example.com")
    assert set(delta.values_list("state", flat=True)) >= {
        "pending_decision",
        "approved",
        "captured",
        "shipped",
        "cancelled",
        "refunded",
        "partly_refunded",
    }
    shipped = Plan.objects.get(order__reference="DELTA-2004")
    assert shipped.state == "active" and shipped.start_date == timezone.localdate(shipped.order.shipped_at)
    assert shipped.instalments.count() == 6 and not shipped.instalments.filter(due_date__isnull=True).exists()
    assert all(order.lines.exists() for order in delta)
