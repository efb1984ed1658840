"""The merchant API: payment sessions (create, read, expiry, bad input) and orders, per merchant."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from bnpl.models import Order, OrderLine, PaymentSession
from portal.api import services as api_keys
from portal.audit.models import AuditEvent

from .factories import OrderFactory, PaymentSessionFactory, order_with_plan

pytestmark = pytest.mark.django_db

SESSIONS = "/api/v1/bnpl/sessions/"
ORDERS = "/api/v1/bnpl/orders/"


def key_of(user, scopes=None) -> dict:
    _, secret = api_keys.api_key_create(
        actor=user, second_factor_verified=True, name="Shop server", scopes=scopes or {"bnpl": "write"}
    )
    return {"HTTP_AUTHORIZATION": f"Api-Key {secret}"}


def body(**changes) -> dict:
    return {
        "amount": "100.00",
        "currency": "EUR",
        "order_lines": [
            {"name": "Espresso machine", "quantity": 1, "unit_price": "63.00", "tax_rate": "19.00"},
            {"name": "Coffee beans", "quantity": 2, "unit_price": "18.50", "tax_rate": "7"},
        ],
        "shopper_email": "Carl.Weber@example.com",
        "locale": "de",
        "reference": "ORDER-4711",
        **changes,
    }


def post(client, data, credentials, **headers):
    return client.post(SESSIONS, json.dumps(data), content_type="application/json", **credentials, **headers)


@pytest.fixture
def shop_key(shops, cast):
    return key_of(cast.merchant)


def test_a_merchant_opens_a_session_and_gets_options_and_the_checkout_url(shops, shop_key, settings, client):
    settings.PORTAL_BASE_URL = "https://portal.example.com"

    response = post(client, body(), shop_key)

    assert response.status_code == 201
    data = response.json()
    session = PaymentSession.objects.get()
    assert data["id"] == session.pk and response["Location"] == f"{SESSIONS}{session.pk}/"
    assert session.merchant == shops.delta and session.shopper_email == "carl.weber@example.com"
    assert data["token"] == session.token and len(session.token) >= 43
    assert data["checkout_url"] == f"https://portal.example.com/bnpl/checkout/{session.token}/"
    assert data["state"] == "open" and data["amount"] == "100.00" and data["locale"] == "de"
    expires = session.expires_at - session.created_at
    assert expires == timedelta(minutes=60)
    assert [line["line_total"] for line in data["order_lines"]] == ["63.00", "37.00"]
    assert list(session.lines.values_list("name", "quantity", "unit_price")) == [
        ("Espresso machine", 1, Decimal("63.00")),
        ("Coffee beans", 2, Decimal("18.50")),
    ]
    options = {option["key"]: option for option in data["payment_options"]}
    pay_in_4 = options["pay_in_4"]
    assert len(pay_in_4["schedule"]) == 4 and pay_in_4["total_payable"] == "100.00"
    assert sum(Decimal(p["amount"]) for p in pay_in_4["schedule"]) == Decimal("100.00")
    assert all({"key", "label", "total_cost_of_credit", "nominal_rate", "apr"} <= set(o) for o in options.values())
    assert AuditEvent.objects.filter(action="bnpl.session_created", object_id=str(session.pk)).count() == 1


def test_a_session_reads_expired_after_its_time(shops, shop_key, client, settings):
    settings.BNPL_SESSION_TTL_MINUTES = 30
    created = post(client, body(), shop_key).json()
    past = timezone.now() - timedelta(minutes=31)
    PaymentSession.objects.filter(pk=created["id"]).update(created_at=past, expires_at=past + timedelta(minutes=30))

    response = client.get(f"{SESSIONS}{created['id']}/", **shop_key)

    assert response.status_code == 200
    assert response.json()["state"] == "expired" and response.json()["payment_options"] == []


def test_a_session_is_read_back_with_its_options_while_open(shops, shop_key, client):
    created = post(client, body(), shop_key).json()

    response = client.get(f"{SESSIONS}{created['id']}/", **shop_key)

    assert response.status_code == 200
    data = response.json()
    assert data["state"] == "open" and data["token"] == created["token"]
    assert [o["key"] for o in data["payment_options"]] == [o["key"] for o in created["payment_options"]]


def test_another_merchants_session_does_not_exist(shops, cast, client):
    foreign = PaymentSessionFactory(merchant=shops.epsilon)
    mine = PaymentSessionFactory(merchant=shops.delta)

    assert client.get(f"{SESSIONS}{foreign.pk}/", **key_of(cast.merchant)).status_code == 404
    listed = client.get(SESSIONS, **key_of(cast.merchant)).json()["results"]
    assert [s["id"] for s in listed] == [mine.pk]
    assert client.get(f"{SESSIONS}{mine.pk}/", **key_of(shops.merchant2)).status_code == 404


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": "90.00"}, "order_lines"),
        ({"amount": "100.001"}, "amount"),
        ({"amount": "0.00", "order_lines": [{"name": "Free", "quantity": 1, "unit_price": "0.00"}]}, "amount"),
        ({"amount": "-100.00"}, "amount"),
        ({"currency": "XYZ"}, "currency"),
        ({"currency": "eur"}, "currency"),
        ({"order_lines": []}, "order_lines"),
        ({"order_lines": [{"name": "A", "quantity": 0, "unit_price": "100.00"}]}, "order_lines.0.quantity"),
        ({"order_lines": [{"name": "A", "quantity": 2, "unit_price": "-50.00"}]}, "order_lines.0.unit_price"),
        ({"order_lines": [{"name": "A", "quantity": "1", "unit_price": "100.00"}]}, "order_lines.0.quantity"),
        (
            {"order_lines": [{"name": "A", "quantity": 1, "unit_price": "100.00", "tax_rate": "120"}]},
            "order_lines.0.tax_rate",
        ),
        ({"shopper_email": "not-an-address"}, "shopper_email"),
        ({"locale": "fr"}, "locale"),
        ({"reference": ""}, "reference"),
    ],
)
def test_bad_input_is_a_clear_400_and_writes_nothing(shops, shop_key, client, changes, field):
    response = post(client, body(**changes), shop_key)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["details"]
    assert not PaymentSession.objects.exists() and not OrderLine.objects.filter(session__isnull=False).exists()
    assert not AuditEvent.objects.filter(action="bnpl.session_created").exists()


def test_unbalanced_lines_say_what_they_add_up_to(shops, shop_key, client):
    response = post(client, body(amount="90.00"), shop_key)

    assert response.json()["error"]["details"]["order_lines"] == [
        "The order lines add up to 100.00 EUR, not the amount 90.00 EUR."
    ]


def test_lines_adding_up_to_the_cent_are_accepted_in_any_supported_currency(shops, shop_key, client):
    lines = [
        {"name": "Pens", "quantity": 3, "unit_price": "0.33"},
        {"name": "Card", "quantity": 1, "unit_price": "0.01"},
    ]

    response = post(client, body(amount="1.00", currency="SEK", order_lines=lines), shop_key)

    assert response.status_code == 201 and response.json()["currency"] == "SEK"


def test_a_read_only_key_cannot_open_sessions_and_a_key_without_bnpl_reaches_nothing(shops, cast, client):
    read_only = key_of(cast.merchant, {"bnpl": "read"})
    other = key_of(cast.merchant, {"account": "read"})

    assert post(client, body(), read_only).status_code == 403
    assert client.get(SESSIONS, **read_only).status_code == 200
    assert client.get(SESSIONS, **other).status_code == 403
    assert not PaymentSession.objects.exists()


def test_only_merchants_open_sessions(shops, cast, client, login_as):
    assert post(client, body(), key_of(cast.broker1, {"bnpl": "write", "clients": "write"})).status_code == 403
    assert post(login_as(cast.client2), body(), {}).status_code == 403
    assert not PaymentSession.objects.exists()


def test_an_inactive_merchant_opens_no_session(shops, shop_key, client):
    shops.delta.active = False
    shops.delta.save(update_fields=["active"])

    response = post(client, body(), shop_key)

    assert response.status_code == 403
    assert response.json()["error"]["message"] == "Your organisation is not an active BNPL merchant."
    assert not PaymentSession.objects.exists()


def test_a_repeat_with_the_same_idempotency_key_creates_one_session(shops, shop_key, client):
    first = post(client, body(), shop_key, HTTP_IDEMPOTENCY_KEY="order-4711")
    again = post(client, body(), shop_key, HTTP_IDEMPOTENCY_KEY="order-4711")
    changed = post(
        client, body(amount="37.00", order_lines=body()["order_lines"][1:]), shop_key, HTTP_IDEMPOTENCY_KEY="order-4711"
    )

    assert first.status_code == again.status_code == 201 and again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert changed.status_code == 409
    assert PaymentSession.objects.count() == 1


# --- Orders ---------------------------------------------------------------------------------------


def test_a_merchant_lists_its_own_orders_only(shops, cast, client):
    response = client.get(ORDERS, **key_of(cast.merchant))

    assert response.status_code == 200
    assert {o["reference"] for o in response.json()["results"]} == {"D-2", "D-3"}
    assert {o["reference"] for o in client.get(ORDERS, **key_of(shops.merchant2)).json()["results"]} == {"E-3"}


def test_an_order_is_read_with_its_lines_and_plan_and_a_foreign_one_is_404(shops, cast, client):
    mine, foreign = shops.delta_order2, shops.epsilon_order3

    data = client.get(f"{ORDERS}{mine.pk}/", **key_of(cast.merchant)).json()

    assert data["reference"] == "D-2" and data["shopper_email"] == "client2@example.com"
    assert data["plan"]["option_key"] == "pay_in_4" and len(data["plan"]["instalments"]) == 4
    assert data["order_lines"][0]["line_total"] == "100.00"
    assert client.get(f"{ORDERS}{foreign.pk}/", **key_of(cast.merchant)).status_code == 404


def test_orders_filter_by_state_and_creation_date(shops, cast, client):
    credentials = key_of(cast.merchant)
    old = OrderFactory(
        merchant=shops.delta,
        shopper=shops.client2,
        reference="OLD",
        state=Order.State.CANCELLED,
        created_at=timezone.now() - timedelta(days=40),
    )
    today = timezone.localdate()

    def references(query):
        response = client.get(ORDERS + query, **credentials)
        assert response.status_code == 200
        return {o["reference"] for o in response.json()["results"]}

    assert references("?state=cancelled") == {"OLD"}
    assert references("?state=approved&state=cancelled") == {"D-2", "D-3", "OLD"}
    assert references(f"?created_before={today - timedelta(days=30)}") == {"OLD"}
    assert references(f"?created_after={today}") == {"D-2", "D-3"}
    assert old.pk not in {
        o["id"] for o in client.get(ORDERS + f"?created_after={today}", **credentials).json()["results"]
    }


@pytest.mark.parametrize(
    "query", ["?state=lost", "?created_after=yesterday", "?created_after=2026-02-01&created_before=2026-01-01"]
)
def test_a_bad_order_filter_is_a_400(shops, cast, client, query):
    response = client.get(ORDERS + query, **key_of(cast.merchant))

    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"


def test_the_order_list_runs_a_bounded_number_of_queries(shops, cast, client, django_assert_max_num_queries):
    credentials = key_of(cast.merchant)
    client.get(ORDERS, **credentials)  # the key's last use is stamped once a minute

    with django_assert_max_num_queries(8):
        assert client.get(ORDERS, **credentials).status_code == 200
    for n in range(20):
        order_with_plan(merchant=shops.delta, shopper=shops.client2, reference=f"MORE-{n}")
    with django_assert_max_num_queries(8):
        assert len(client.get(ORDERS, **credentials).json()["results"]) == 22


def test_the_session_list_runs_a_bounded_number_of_queries(shops, shop_key, client, django_assert_max_num_queries):
    post(client, body(), shop_key)

    with django_assert_max_num_queries(8):
        assert client.get(SESSIONS, **shop_key).status_code == 200
    for n in range(15):
        post(client, body(reference=f"R-{n}"), shop_key)
    with django_assert_max_num_queries(8):
        assert len(client.get(SESSIONS, **shop_key).json()["results"]) == 16


def test_back_office_reads_every_merchants_orders_through_the_api(shops, cast, login_as):
    response = login_as(cast.backoffice).get(ORDERS)

    assert {o["reference"] for o in response.json()["results"]} == {"D-2", "D-3", "E-3"}


def test_a_client_reaches_no_order_through_the_merchant_api(shops, cast, login_as):
    assert login_as(cast.client2).get(ORDERS).status_code == 403


def test_the_schema_documents_the_bnpl_endpoints(shops, cast, login_as):
    schema = login_as(cast.backoffice).get("/api/schema/?format=json").json()

    for path in (SESSIONS, f"{SESSIONS}{{session_id}}/", ORDERS, f"{ORDERS}{{order_id}}/"):
        assert path in schema["paths"], path
    assert "payment_options" in json.dumps(schema["components"]["schemas"]["Session"])


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_identical_posts_with_one_key_create_one_session(shops, cast, settings):
    from tests.parallel import in_parallel

    settings.PORTAL_IDEMPOTENCY_WAIT_SECONDS = 30
    credentials = key_of(cast.merchant)

    outcomes = in_parallel(20, lambda n: post(Client(), body(), credentials, HTTP_IDEMPOTENCY_KEY="storm-1"))

    assert [type(o).__name__ for o in outcomes if isinstance(o, Exception)] == []
    assert sorted(o.status_code for o in outcomes) == [201] * 20
    assert sum(o.get("Idempotent-Replayed") == "true" for o in outcomes) == 19
    assert len({o.content for o in outcomes}) == 1
    assert PaymentSession.objects.count() == 1
    assert AuditEvent.objects.filter(action="bnpl.session_created").count() == 1
