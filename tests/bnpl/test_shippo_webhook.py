"""Shippo's track_updated webhook: authenticated by the URL token (and HMAC when provisioned),
stored once, signalled once; everything refused stores and signals nothing."""

import json
import time
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from bnpl.events import shipment_status_changed
from bnpl.models import ShipmentEvent
from tests.fakes.shippo import shippo_signature

pytestmark = pytest.mark.django_db

TOKEN = "wh-token-7f3a9c1e5b"
CARRIER = "dhl_germany"
NUMBER = "00340434161094015902"
SCANNED = datetime(2026, 3, 3, 17, 40, tzinfo=UTC)


@pytest.fixture
def webhook_settings(settings):
    settings.SHIPPO_WEBHOOK_TOKEN = TOKEN
    settings.SHIPPO_WEBHOOK_HMAC_SECRET = ""
    return settings


@pytest.fixture
def signals():
    received = []

    def receiver(sender, carrier, tracking_number, status, status_date, **kwargs):
        received.append((carrier, tracking_number, status, status_date))

    shipment_status_changed.connect(receiver, dispatch_uid="test-webhook-signals")
    yield received
    shipment_status_changed.disconnect(dispatch_uid="test-webhook-signals")


@pytest.fixture
def in_transit(fake_shippo) -> bytes:
    """Shippo's webhook body for a parcel just scanned in transit at Kassel."""
    fake_shippo.set_status(CARRIER, NUMBER, "PRE_TRANSIT", at=datetime(2026, 3, 2, 8, 0, tzinfo=UTC))
    fake_shippo.set_status(CARRIER, NUMBER, "TRANSIT", at=SCANNED, city="Kassel", zip_code="34117")
    return json.dumps(fake_shippo.track_updated_payload(CARRIER, NUMBER)).encode()


def post(client, body, *, token=TOKEN, **headers):
    url = reverse("bnpl:shippo-webhook")
    if token is not None:
        url += f"?token={token}"
    return client.post(url, data=body, content_type="application/json", headers=headers)


def test_an_authentic_event_is_stored_and_signalled_once(client, webhook_settings, signals, in_transit):
    answer = post(client, in_transit)

    assert answer.status_code == 200
    assert answer.json() == {"received": True, "stored": True}
    event = ShipmentEvent.objects.get()
    assert (event.carrier, event.tracking_number, event.status, event.status_date) == (
        CARRIER,
        NUMBER,
        "in_transit",
        SCANNED,
    )
    assert event.location == "Kassel, 34117, DE"
    assert event.source == "webhook"
    assert event.payload["data"]["tracking_number"] == NUMBER
    assert event.event_key == f"{CARRIER}:{NUMBER}:in_transit:2026-03-03T17:40:00Z"
    assert signals == [(CARRIER, NUMBER, "in_transit", SCANNED)]


def test_a_repeated_event_is_answered_200_and_stores_and_signals_nothing(client, webhook_settings, signals, in_transit):
    post(client, in_transit)

    again = post(client, in_transit)

    assert again.status_code == 200
    assert again.json() == {"received": True, "stored": False}
    assert ShipmentEvent.objects.count() == 1
    assert len(signals) == 1


def test_the_next_status_of_the_same_parcel_is_a_new_event(client, webhook_settings, signals, in_transit, fake_shippo):
    post(client, in_transit)
    fake_shippo.set_status(CARRIER, NUMBER, "DELIVERED", at=datetime(2026, 3, 4, 11, 5, tzinfo=UTC))

    post(client, json.dumps(fake_shippo.track_updated_payload(CARRIER, NUMBER)).encode())

    assert [e.status for e in ShipmentEvent.objects.order_by("status_date")] == ["in_transit", "delivered"]
    assert [s[2] for s in signals] == ["in_transit", "delivered"]


@pytest.mark.parametrize("token", ["wrong-token", "", None, TOKEN + "x", "ä"])
def test_a_wrong_or_missing_token_is_403_and_stores_nothing(client, webhook_settings, signals, in_transit, token):
    answer = post(client, in_transit, token=token)

    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "permission_denied"
    assert not ShipmentEvent.objects.exists()
    assert signals == []


def test_with_no_token_configured_every_call_is_refused(client, settings, signals, in_transit):
    settings.SHIPPO_WEBHOOK_TOKEN = ""
    settings.SHIPPO_WEBHOOK_HMAC_SECRET = ""

    assert post(client, in_transit, token="").status_code == 403
    assert post(client, in_transit, token=None).status_code == 403
    assert not ShipmentEvent.objects.exists()


def _without(payload: dict, *path) -> dict:
    target = payload
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return payload


def _with(payload: dict, value, *path) -> dict:
    target = payload
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return payload


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda p: b"{not json", "body"),
        (lambda p: b"\xff\xfe", "body"),
        (lambda p: b"[]", "event"),
        (lambda p: _without(p, "event"), "event"),
        (lambda p: _without(p, "data"), "data"),
        (lambda p: _with(p, "a string", "data"), "data"),
        (lambda p: _without(p, "data", "carrier"), "data.carrier"),
        (lambda p: _with(p, "DHL Germany!", "data", "carrier"), "data.carrier"),
        (lambda p: _without(p, "data", "tracking_number"), "data.tracking_number"),
        (lambda p: _with(p, "", "data", "tracking_number"), "data.tracking_number"),
        (lambda p: _with(p, None, "data", "tracking_status"), "data.tracking_status"),
        (lambda p: _without(p, "data", "tracking_status", "status"), "data.tracking_status.status"),
        (lambda p: _with(p, "LOST_IN_SPACE", "data", "tracking_status", "status"), "data.tracking_status.status"),
        (lambda p: _with(p, ["TRANSIT"], "data", "tracking_status", "status"), "data.tracking_status.status"),
        (lambda p: _without(p, "data", "tracking_status", "status_date"), "data.tracking_status.status_date"),
        (lambda p: _with(p, "yesterday", "data", "tracking_status", "status_date"), "data.tracking_status.status_date"),
        (
            lambda p: _with(p, "2026-13-45T10:00:00Z", "data", "tracking_status", "status_date"),
            "data.tracking_status.status_date",
        ),
    ],
)
def test_a_malformed_event_is_400_with_the_field_to_blame_and_stores_nothing(
    client, webhook_settings, signals, in_transit, change, field
):
    changed = change(json.loads(in_transit))
    body = changed if isinstance(changed, bytes) else json.dumps(changed).encode()

    answer = post(client, body)

    assert answer.status_code == 400
    assert list(answer.json()["error"]["details"]) == [field]
    assert not ShipmentEvent.objects.exists()
    assert signals == []


def test_another_event_type_is_acknowledged_and_ignored(client, webhook_settings, signals, in_transit):
    body = json.dumps({**json.loads(in_transit), "event": "transaction_updated"}).encode()

    answer = post(client, body)

    assert answer.status_code == 200
    assert answer.json() == {"received": True, "stored": False}
    assert not ShipmentEvent.objects.exists()


def test_an_unknown_status_without_a_date_tells_nothing_and_is_not_stored(client, webhook_settings, fake_shippo):
    body = json.dumps(fake_shippo.track_updated_payload(CARRIER, "NEVERSCANNED1")).encode()

    answer = post(client, body)

    assert answer.status_code == 200
    assert answer.json()["stored"] is False
    assert not ShipmentEvent.objects.exists()


def test_a_body_over_64_kb_is_413_and_stores_nothing(client, webhook_settings, signals, in_transit):
    payload = json.loads(in_transit)
    payload["data"]["messages"] = ["x" * 1000] * 66
    body = json.dumps(payload).encode()
    assert len(body) > 64 * 1024

    answer = post(client, body)

    assert answer.status_code == 413
    assert not ShipmentEvent.objects.exists()
    assert signals == []


def test_only_post_is_answered(client, webhook_settings):
    url = reverse("bnpl:shippo-webhook") + f"?token={TOKEN}"

    assert client.get(url).status_code == 405
    assert client.put(url, data=b"{}", content_type="application/json").status_code == 405


def test_a_receiver_failing_undoes_the_event_so_a_redelivery_can_store_it(client, webhook_settings, in_transit):
    def broken(sender, **kwargs):
        raise RuntimeError("orders could not take it")

    shipment_status_changed.connect(broken, dispatch_uid="test-broken-receiver")
    try:
        client.raise_request_exception = False
        assert post(client, in_transit).status_code == 500
        assert not ShipmentEvent.objects.exists()
    finally:
        shipment_status_changed.disconnect(dispatch_uid="test-broken-receiver")

    assert post(client, in_transit).json() == {"received": True, "stored": True}


# ----- HMAC (Shippo-Auth-Signature), when Shippo has provisioned a secret ---------------------------

SECRET = "shippo-hmac-secret-0123456789"


@pytest.fixture
def hmac_settings(webhook_settings):
    webhook_settings.SHIPPO_WEBHOOK_HMAC_SECRET = SECRET
    return webhook_settings


def test_a_correctly_signed_event_is_stored(client, hmac_settings, in_transit):
    answer = post(client, in_transit, **{"Shippo-Auth-Signature": shippo_signature(SECRET, in_transit)})

    assert answer.status_code == 200
    assert ShipmentEvent.objects.count() == 1


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "t=abc,v1=00",
        "v1=" + "0" * 64,
        shippo_signature("another-secret", b"{}"),
        shippo_signature(SECRET, b'{"event": "track_updated"}'),  # signed, but another body
        shippo_signature(SECRET, b"BODY", timestamp=int(time.time()) - 3600),  # an old one, replayed
    ],
    # Fixed ids: the values hold the time, and parallel workers must collect the same tests.
    ids=["none", "empty", "malformed", "no-timestamp", "other-secret", "other-body", "stale"],
)
def test_a_missing_wrong_or_stale_signature_is_403_even_with_the_token(
    client, hmac_settings, signals, in_transit, signature
):
    if signature is not None and "BODY" in signature:
        signature = shippo_signature(SECRET, in_transit, timestamp=int(time.time()) - 3600)
    headers = {} if signature is None else {"Shippo-Auth-Signature": signature}

    answer = post(client, in_transit, **headers)

    assert answer.status_code == 403
    assert not ShipmentEvent.objects.exists()
    assert signals == []


def test_the_signature_does_not_replace_the_token(client, hmac_settings, in_transit):
    answer = post(client, in_transit, token="wrong", **{"Shippo-Auth-Signature": shippo_signature(SECRET, in_transit)})

    assert answer.status_code == 403
    assert not ShipmentEvent.objects.exists()


# ----- the fake posting its webhook over HTTP, as Shippo does -----------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_fake_delivers_a_signed_webhook_to_the_running_portal(live_server, settings, fake_shippo):
    settings.SHIPPO_WEBHOOK_TOKEN = TOKEN
    settings.SHIPPO_WEBHOOK_HMAC_SECRET = fake_shippo.hmac_secret
    fake_shippo.set_status(CARRIER, NUMBER, "DELIVERED", at=SCANNED)
    url = live_server.url + reverse("bnpl:shippo-webhook") + f"?token={TOKEN}"

    assert fake_shippo.send_track_updated(url, CARRIER, NUMBER) == 200
    assert fake_shippo.send_track_updated(url, CARRIER, NUMBER) == 200
    assert fake_shippo.send_track_updated(url.replace(TOKEN, "nope"), CARRIER, NUMBER) == 403

    assert list(ShipmentEvent.objects.values_list("status", flat=True)) == ["delivered"]
