"""Shippo delivering the same track_updated event many times at once (PostgreSQL): one event, one signal.

Each thread posts through its own test client and database connection, as parallel deliveries
reach parallel web workers; the unique event key decides, and the losers answer 200 "not stored".
"""

import json
import threading
from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import reverse

from bnpl.events import shipment_status_changed
from bnpl.models import ShipmentEvent
from tests.parallel import in_parallel

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

TOKEN = "wh-token-parallel-5d2e"


def test_twenty_parallel_deliveries_of_one_event_store_and_signal_it_once(settings, fake_shippo):
    settings.SHIPPO_WEBHOOK_TOKEN = TOKEN
    settings.SHIPPO_WEBHOOK_HMAC_SECRET = ""
    fake_shippo.set_status("ups", "1Z999AA10123456784", "DELIVERED", at=datetime(2026, 3, 4, 11, 5, tzinfo=UTC))
    body = json.dumps(fake_shippo.track_updated_payload("ups", "1Z999AA10123456784"))
    url = reverse("bnpl:shippo-webhook") + f"?token={TOKEN}"
    signalled = []
    lock = threading.Lock()

    def receiver(sender, status, **kwargs):
        with lock:
            signalled.append(status)

    shipment_status_changed.connect(receiver, dispatch_uid="test-parallel-webhook")
    try:
        outcomes = in_parallel(20, lambda n: Client().post(url, data=body, content_type="application/json").json())
    finally:
        shipment_status_changed.disconnect(dispatch_uid="test-parallel-webhook")

    assert sorted(o["stored"] for o in outcomes) == [False] * 19 + [True]
    assert ShipmentEvent.objects.count() == 1
    assert signalled == ["delivered"]
