"""The merchant API's order actions: capture, ship, cancel, refund; errors; foreign orders; parallel refunds."""

import json
from decimal import Decimal

import pytest
from django.test import Client

from bnpl import orders
from bnpl.models import Order, Plan
from portal.audit.models import AuditEvent
from portal.notifications.models import OutboxMessage
from tests.parallel import in_parallel

from .factories import order_with_plan
from .test_sessions_api import key_of

ORDERS = "/api/v1/bnpl/orders/"


def act(client, order, action, credentials, data=None, **headers):
    return client.post(
        f"{ORDERS}{order.pk}/{action}/",
        json.dumps(data or {}),
        content_type="application/json",
        **credentials,
        **headers,
    )


@pytest.fixture
def key(shops, cast):
    return key_of(cast.merchant)


@pytest.mark.django_db
def test_a_merchant_captures_ships_and_refunds_through_the_api(shops, key, client, cast, settings):
    settings.SHIPPO_API_KEY = ""
    order = shops.delta_order2

    captured = act(client, order, "capture", key)
    assert captured.status_code == 200 and captured.json()["state"] == "captured"

    shipped = act(client, order, "ship", key, {"carrier": "dhl_germany", "tracking_number": "00340434161094015902"})
    assert shipped.status_code == 200
    body = shipped.json()
    assert body["state"] == "shipped" and body["carrier"] == "dhl_germany"
    assert body["plan"]["state"] == "active" and body["plan"]["start_date"]
    assert OutboxMessage.objects.filter(recipient=cast.client2.email, subject__contains="D-2").exists()

    refunded = act(client, order, "refund", key, {"amount": "100.00", "reason": "Returned"})
    assert refunded.status_code == 200
    assert refunded.json()["state"] == "refunded" and refunded.json()["refunded_amount"] == "100.00"


@pytest.mark.django_db
def test_cancel_through_the_api(shops, key, client):
    response = act(client, shops.delta_order2, "cancel", key, {"reason": "Out of stock"})

    assert response.status_code == 200 and response.json()["state"] == "cancelled"
    assert Plan.objects.get(order=shops.delta_order2).state == "cancelled"


def shipped_order(shops, cast):
    order = order_with_plan(merchant=shops.delta, shopper=shops.client2, reference="API-1", state="captured")
    orders.order_ship(actor=cast.merchant, order_id=order.pk, carrier="ups", tracking_number="1Z999AA10123456784")
    return order


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("action", "data", "field", "prepared"),
    [
        ("refund", {"amount": "-10.00"}, "amount", "shipped"),
        ("refund", {"amount": "100.01"}, "amount", "shipped"),
        ("refund", {"amount": "ten"}, "amount", "shipped"),
        ("refund", {}, "amount", "shipped"),
        ("ship", {"carrier": "ups", "tracking_number": "1Z2"}, "state", "shipped"),
        ("ship", {"carrier": "pigeon_post", "tracking_number": "1Z2"}, "carrier", "captured"),
        ("ship", {"carrier": "ups"}, "tracking_number", "captured"),
        ("capture", {}, "state", "shipped"),
        ("cancel", {}, "state", "shipped"),
        ("capture", {"amount": "-1.00"}, "amount", "approved"),
    ],
)
def test_bad_input_is_a_400_in_the_api_error_format_and_changes_nothing(
    shops, key, client, cast, action, data, field, prepared
):
    if prepared == "shipped":
        order = shipped_order(shops, cast)
    else:
        order = order_with_plan(merchant=shops.delta, shopper=shops.client2, reference="API-2", state=prepared)
    before = Order.objects.filter(pk=order.pk).values().get()
    audits = AuditEvent.objects.count()

    response = act(client, order, action, key, data)

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["details"]
    assert Order.objects.filter(pk=order.pk).values().get() == before
    assert AuditEvent.objects.count() == audits


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["capture", "ship", "cancel", "refund"])
def test_another_merchants_order_is_404(shops, client, action):
    foreign = shops.delta_order2
    before = Order.objects.filter(pk=foreign.pk).values().get()
    data = {"carrier": "ups", "tracking_number": "1Z1", "amount": "1.00"}

    response = act(client, foreign, action, key_of(shops.merchant2), data)

    assert response.status_code == 404
    assert Order.objects.filter(pk=foreign.pk).values().get() == before


@pytest.mark.django_db
def test_a_read_only_key_cannot_act(shops, cast, client):
    response = act(client, shops.delta_order2, "capture", key_of(cast.merchant, scopes={"bnpl": "read"}))

    assert response.status_code == 403
    assert Order.objects.get(pk=shops.delta_order2.pk).state == "approved"


@pytest.mark.django_db
def test_a_repeat_with_the_same_idempotency_key_refunds_once(shops, key, client, cast):
    order = shipped_order(shops, cast)

    first = act(client, order, "refund", key, {"amount": "10.00"}, HTTP_IDEMPOTENCY_KEY="refund-1")
    again = act(client, order, "refund", key, {"amount": "10.00"}, HTTP_IDEMPOTENCY_KEY="refund-1")

    assert first.status_code == again.status_code == 200 and first.json() == again.json()
    assert Order.objects.get(pk=order.pk).refunded_amount == Decimal("10.00")


@pytest.mark.django_db
def test_the_schema_documents_the_order_actions(shops, cast, login_as):
    paths = login_as(cast.backoffice).get("/api/schema/?format=json").json()["paths"]

    for action in ("capture", "ship", "cancel", "refund"):
        assert f"/api/v1/bnpl/orders/{{order_id}}/{action}/" in paths


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_ten_parallel_refunds_cannot_over_refund(shops, cast):
    order = shipped_order(shops, cast)  # 100.00 EUR
    headers = key_of(cast.merchant)

    def refund(n):
        response = act(Client(), order, "refund", headers, {"amount": "15.00"})
        return response.status_code

    outcomes = in_parallel(10, refund)

    assert sorted(outcomes) == [200] * 6 + [400] * 4
    order.refresh_from_db()
    assert order.refunded_amount == Decimal("90.00") and order.state == "partly_refunded"
    assert Plan.objects.get(order=order).total_payable == Decimal("10.00")
    assert AuditEvent.objects.filter(action="bnpl.order_refunded").count() == 6
