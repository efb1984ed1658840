"""The merchant API's re-pricing: PATCH a session's lines before the shopper accepts."""

import json
from decimal import Decimal

import pytest

from bnpl.models import OrderLine, PaymentSession
from portal.audit.models import AuditEvent

from .test_sessions_api import SESSIONS, body, key_of, post

pytestmark = pytest.mark.django_db

NEW_LINES = [
    {"name": "Espresso machine", "quantity": 1, "unit_price": "63.00", "tax_rate": "19.00"},
    {"name": "Coffee beans", "quantity": 4, "unit_price": "18.50", "tax_rate": "7"},
]


def patch(client, session_id, data, credentials, **headers):
    return client.patch(
        f"{SESSIONS}{session_id}/", json.dumps(data), content_type="application/json", **credentials, **headers
    )


@pytest.fixture
def opened(shops, cast, client):
    credentials = key_of(cast.merchant)
    created = post(client, body(return_url="https://shop.example.com/basket"), credentials).json()
    return created, credentials


def test_new_lines_reprice_the_options(opened, client):
    created, credentials = opened

    response = patch(client, created["id"], {"amount": "137.00", "order_lines": NEW_LINES}, credentials)

    assert response.status_code == 200
    data = response.json()
    assert data["amount"] == "137.00" and data["return_url"] == "https://shop.example.com/basket"
    assert [line["line_total"] for line in data["order_lines"]] == ["63.00", "74.00"]
    pay_in_4 = next(option for option in data["payment_options"] if option["key"] == "pay_in_4")
    assert pay_in_4["total_payable"] == "137.00"
    assert list(OrderLine.objects.filter(session_id=created["id"]).values_list("quantity", flat=True)) == [1, 4]
    assert AuditEvent.objects.filter(action="bnpl.session_repriced", object_id=str(created["id"])).count() == 1


def test_unbalanced_lines_are_a_400_and_nothing_changes(opened, client):
    created, credentials = opened

    response = patch(client, created["id"], {"amount": "140.00", "order_lines": NEW_LINES}, credentials)

    assert response.status_code == 400
    assert response.json()["error"]["details"]["order_lines"] == [
        "The order lines add up to 137.00 EUR, not the amount 140.00 EUR."
    ]
    session = PaymentSession.objects.get(pk=created["id"])
    assert session.amount == Decimal("100.00")
    assert list(session.lines.values_list("name", "quantity")) == [("Espresso machine", 1), ("Coffee beans", 2)]
    assert not AuditEvent.objects.filter(action="bnpl.session_repriced").exists()


def test_another_merchants_session_cannot_be_repriced(opened, shops, client):
    created, _credentials = opened

    response = patch(client, created["id"], {"amount": "137.00", "order_lines": NEW_LINES}, key_of(shops.merchant2))

    assert response.status_code == 404
    assert PaymentSession.objects.get(pk=created["id"]).amount == Decimal("100.00")


def test_a_repeated_patch_with_its_idempotency_key_changes_once(opened, client):
    created, credentials = opened
    data = {"amount": "137.00", "order_lines": NEW_LINES}

    first = patch(client, created["id"], data, credentials, HTTP_IDEMPOTENCY_KEY="reprice-1")
    again = patch(client, created["id"], data, credentials, HTTP_IDEMPOTENCY_KEY="reprice-1")
    other = patch(client, created["id"], {**data, "amount": "100.00"}, credentials, HTTP_IDEMPOTENCY_KEY="reprice-1")

    assert first.status_code == again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert other.status_code == 409
    assert AuditEvent.objects.filter(action="bnpl.session_repriced").count() == 1


def test_a_return_url_must_be_https(shops, cast, client):
    response = post(client, body(return_url="http://shop.example.com/back"), key_of(cast.merchant))

    assert response.status_code == 400 and "return_url" in response.json()["error"]["details"]
    assert not PaymentSession.objects.exists()
