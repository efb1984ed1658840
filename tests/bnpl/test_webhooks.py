"""Merchant webhooks: signed, delivered through the outbox pattern with backoff, given up, sent again, SSRF-guarded."""

import json
import re
import socket
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from bnpl import webhooks
from bnpl.models import WebhookAttempt, WebhookDelivery
from bnpl.services import merchant_webhook_secret_rotate
from portal.audit.models import AuditEvent

State = WebhookDelivery.State
DOCS = Path(__file__).resolve().parents[2] / "docs" / "bnpl-webhooks.md"


def documented_verify():
    """The verification snippet of docs/bnpl-webhooks.md, run as a merchant would copy it."""
    text = DOCS.read_text()
    snippet = next(block for block in re.findall(r"```python\n(.*?)```", text, re.S) if "def verify_signature" in block)
    namespace = {}
    exec(compile(snippet, str(DOCS), "exec"), namespace)  # noqa: S102 (our own documentation)
    return namespace["verify_signature"]


@pytest.fixture
def hooked(shops, cast, webhook_receiver):
    """Delta Shop with its webhook URL on the loopback receiver, and a fresh secret the test knows."""
    shops.delta.webhook_url = webhook_receiver.url
    shops.delta.save(update_fields=["webhook_url"])
    _merchant, secret = merchant_webhook_secret_rotate(
        actor=cast.merchant,
        second_factor_verified=True,
        merchant_id=shops.delta.pk,
    )
    shops.secret = secret
    shops.receiver = webhook_receiver
    return shops


def enqueue(shops, event="order.shipped"):
    return webhooks.webhook_enqueue(
        merchant=shops.delta,
        event=event,
        order=shops.delta_order2,
        payload={"order_id": shops.delta_order2.pk, "reference": "D-2", "amount": shops.delta_order2.amount},
    )


def make_due(delivery):
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def test_delivered_after_commit_signed_as_documented(hooked, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        delivery = enqueue(hooked)
    delivery.refresh_from_db()
    assert delivery.state == State.DELIVERED
    assert delivery.attempts == 1 and delivery.last_status_code == 200
    [request] = hooked.receiver.requests
    assert request.headers["Partnerzone-Event"] == "order.shipped"
    assert request.headers["Partnerzone-Delivery"] == str(delivery.pk)
    body = json.loads(request.body)
    assert body["id"] == delivery.pk and body["event"] == "order.shipped"
    assert body["data"] == {"order_id": hooked.delta_order2.pk, "reference": "D-2", "amount": "100.00"}
    verify = documented_verify()
    signature = request.headers["Partnerzone-Signature"]
    assert verify(hooked.secret, signature, request.body)
    assert webhooks.verify_signature(hooked.secret, signature, request.body)
    # A changed body, another secret, or an old timestamp does not verify.
    assert not verify(hooked.secret, signature, request.body + b" ")
    assert not verify("whsec_other", signature, request.body)
    old = webhooks.signature_header(hooked.secret, request.body, timestamp=int(timezone.now().timestamp()) - 301)
    assert not verify(hooked.secret, old, request.body)
    assert not verify(hooked.secret, "garbage", request.body)
    [attempt] = WebhookAttempt.objects.filter(delivery=delivery)
    assert attempt.status_code == 200 and attempt.error == ""


def test_nothing_queued_before_commit_nor_without_url(shops, webhook_receiver, django_capture_on_commit_callbacks):
    assert webhooks.webhook_enqueue(merchant=shops.delta, event="order.shipped", payload={}) is None
    shops.delta.webhook_url = webhook_receiver.url
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        delivery = webhooks.webhook_enqueue(merchant=shops.delta, event="order.shipped", payload={})
    assert len(callbacks) == 1 and webhook_receiver.requests == []
    assert WebhookDelivery.objects.get(pk=delivery.pk).state == State.PENDING
    with pytest.raises(ValueError, match="Unknown webhook event"):
        webhooks.webhook_enqueue(merchant=shops.delta, event="order.exploded", payload={})


def test_retries_with_backoff_on_500_then_delivered(hooked, settings):
    settings.BNPL_WEBHOOK_RETRY_BASE_SECONDS = 60
    delivery = enqueue(hooked)
    hooked.receiver.answer(500, times=2)
    before = timezone.now()
    assert webhooks.webhook_deliver(delivery_id=delivery.pk) == State.FAILED
    delivery.refresh_from_db()
    assert delivery.last_status_code == 500 and "500" in delivery.last_error
    assert timedelta(seconds=59) < delivery.next_attempt_at - before < timedelta(seconds=62)
    # Not due yet: nothing is sent.
    assert webhooks.webhook_deliver(delivery_id=delivery.pk) is None
    make_due(delivery)
    before = timezone.now()
    assert webhooks.webhook_deliver(delivery_id=delivery.pk) == State.FAILED
    delivery.refresh_from_db()
    assert timedelta(seconds=119) < delivery.next_attempt_at - before < timedelta(seconds=122)
    make_due(delivery)
    assert webhooks.webhook_deliver(delivery_id=delivery.pk) == State.DELIVERED
    assert len(hooked.receiver.requests) == 3
    codes = list(
        WebhookAttempt.objects.filter(delivery=delivery).order_by("at", "id").values_list("status_code", flat=True)
    )
    assert codes == [500, 500, 200]


def test_timeout_is_a_failed_attempt(hooked):
    delivery = enqueue(hooked)
    hooked.receiver.hang(seconds=1.5)
    assert webhooks.webhook_deliver(delivery_id=delivery.pk) == State.FAILED
    attempt = WebhookAttempt.objects.get(delivery=delivery)
    assert attempt.status_code is None and "No answer within" in attempt.error
    assert attempt.duration_ms >= 400


def test_given_up_after_max_attempts(hooked, settings):
    settings.BNPL_WEBHOOK_MAX_ATTEMPTS = 3
    delivery = enqueue(hooked)
    hooked.receiver.answer(503, times=10)
    states = []
    for _ in range(4):
        make_due(delivery)
        states.append(webhooks.webhook_deliver(delivery_id=delivery.pk))
    assert states == [State.FAILED, State.FAILED, State.GIVEN_UP, None]
    delivery.refresh_from_db()
    assert delivery.state == State.GIVEN_UP and delivery.attempts == 3
    assert len(hooked.receiver.requests) == 3


def test_delivered_once_when_the_task_runs_twice(hooked, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        delivery = enqueue(hooked)
    assert webhooks.webhook_deliver(delivery_id=delivery.pk) is None
    assert webhooks.webhook_sweep()["delivered"] == 0
    assert len(hooked.receiver.requests) == 1
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 1


def test_sweep_delivers_lost_rows_and_recovers_stuck_ones(hooked):
    lost = enqueue(hooked)  # its on_commit never ran: the sweep finds it
    stuck = enqueue(hooked, event="order.refunded")
    WebhookDelivery.objects.filter(pk=stuck.pk).update(
        state=State.SENDING, claimed_at=timezone.now() - timedelta(minutes=10), attempts=1
    )
    result = webhooks.webhook_sweep()
    assert result["recovered"] == 1 and result["delivered"] == 2
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {State.DELIVERED}
    assert {json.loads(r.body)["id"] for r in hooked.receiver.requests} == {lost.pk, stuck.pk}


def test_resend_requeues_and_is_audited(hooked, cast, settings, django_capture_on_commit_callbacks):
    settings.BNPL_WEBHOOK_MAX_ATTEMPTS = 1
    delivery = enqueue(hooked)
    hooked.receiver.answer(500)
    assert webhooks.webhook_deliver(delivery_id=delivery.pk) == State.GIVEN_UP
    with django_capture_on_commit_callbacks(execute=True):
        webhooks.webhook_resend(actor=cast.merchant, delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.state == State.DELIVERED and delivery.attempts == 2
    assert AuditEvent.objects.filter(action="bnpl.webhook_resent").count() == 1
    # Another shop's people cannot send it again; a pending one is not queued twice.
    with pytest.raises(PermissionDenied):
        webhooks.webhook_resend(actor=hooked.merchant2, delivery_id=delivery.pk)
    pending = enqueue(hooked)
    with pytest.raises(ValidationError):
        webhooks.webhook_resend(actor=cast.merchant, delivery_id=pending.pk)


@pytest.mark.parametrize("host", ["127.0.0.1", "10.1.2.3", "192.168.0.10", "169.254.169.254", "[::1]", "localhost"])
def test_ssrf_guard_refuses_non_public_addresses(hooked, settings, host):
    settings.BNPL_WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(webhooks.UrlRefused):
        webhooks.url_check(f"http://{host}:8080/hooks")
    delivery = enqueue(hooked)
    assert webhooks.webhook_deliver(delivery_id=delivery.pk) == State.GIVEN_UP  # the receiver is on 127.0.0.1
    assert hooked.receiver.requests == []
    assert "not a public internet address" in WebhookAttempt.objects.get(delivery=delivery).error


def test_ssrf_guard_checks_scheme_and_saved_urls(shops, cast, settings, monkeypatch):
    settings.BNPL_WEBHOOK_ALLOW_PRIVATE = False
    for url in ["ftp://example.com/x", "file:///etc/passwd", "http:///nohost", "gopher://10.0.0.1/"]:
        with pytest.raises(webhooks.UrlRefused):
            webhooks.url_check(url)
    with pytest.raises(ValidationError) as error:
        webhooks.webhook_url_set(actor=cast.merchant, merchant_id=shops.delta.pk, webhook_url="http://10.0.0.7/h")
    assert "webhook_url" in error.value.message_dict
    shops.delta.refresh_from_db()
    assert shops.delta.webhook_url == ""
    # A public address passes (resolution faked: no network in tests).
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, **kw: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port))],
    )
    webhooks.webhook_url_set(actor=cast.merchant, merchant_id=shops.delta.pk, webhook_url="https://shop.example/hooks")
    shops.delta.refresh_from_db()
    assert shops.delta.webhook_url == "https://shop.example/hooks"
    assert AuditEvent.objects.filter(action="bnpl.webhook_url_changed").count() == 1
    with pytest.raises(PermissionDenied):
        webhooks.webhook_url_set(actor=shops.merchant2, merchant_id=shops.delta.pk, webhook_url="")


def test_backoff_is_capped(settings):
    settings.BNPL_WEBHOOK_RETRY_BASE_SECONDS = 60
    settings.BNPL_WEBHOOK_RETRY_MAX_SECONDS = 600
    assert [webhooks.retry_delay(n).total_seconds() for n in (1, 2, 3, 4, 5, 9)] == [60, 120, 240, 480, 600, 600]


@pytest.mark.django_db
def test_demo_gives_delta_shop_three_webhooks_once():
    import io

    from bnpl.demo import demo_step
    from portal.shell.demo import cast_ensure

    cast_ensure()
    demo_step(scale="small", stdout=io.StringIO())
    demo_step(scale="small", stdout=io.StringIO())
    deliveries = {d.state: d for d in WebhookDelivery.objects.filter(merchant__trading_name="Delta Shop")}
    assert set(deliveries) == {State.DELIVERED, State.FAILED, State.PENDING}
    assert WebhookDelivery.objects.count() == 3
    delivered = deliveries[State.DELIVERED]
    assert delivered.attempts == 2
    assert list(delivered.attempt_log.order_by("at").values_list("status_code", flat=True)) == [None, 200]
    assert deliveries[State.FAILED].attempt_log.get().status_code == 500
    assert not deliveries[State.PENDING].attempt_log.exists()


def test_a_carrier_status_becomes_a_tracking_webhook(hooked, django_capture_on_commit_callbacks):
    from django.db import transaction

    from bnpl.events import shipment_status_changed
    from bnpl.models import Order, ShipmentEvent

    Order.objects.filter(pk=hooked.delta_order2.pk).update(carrier="dhl_germany", tracking_number="00340434")
    when = timezone.now()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        shipment_status_changed.send(
            sender=ShipmentEvent,
            carrier="dhl_germany",
            tracking_number="00340434",
            status="in_transit",
            status_date=when,
        )
    delivery = WebhookDelivery.objects.get(event="order.tracking_updated")
    assert delivery.order_id == hooked.delta_order2.pk and delivery.state == State.DELIVERED
    data = json.loads(hooked.receiver.requests[0].body)["data"]
    assert data["reference"] == "D-2" and data["status"] == "in_transit"
    assert data["status_date"].startswith(when.strftime("%Y-%m-%dT%H:%M:%S"))


def test_the_order_services_and_the_credit_decision_tell_the_shop_by_webhook(hooked, cast, settings):
    """The credit decision, capture, ship and cancel each queue the shop's webhook in their own transaction."""
    from bnpl.decisions import decide_order
    from bnpl.models import Order
    from bnpl.orders import order_cancel, order_capture, order_ship

    settings.SHIPPO_API_KEY = ""  # the carrier simulator
    order = hooked.delta_order2
    Order.objects.filter(pk=order.pk).update(state=Order.State.PENDING_DECISION)
    decide_order(order_id=order.pk)  # no rules, within the limit? the outcome decides the webhook
    order.refresh_from_db()
    decided = list(WebhookDelivery.objects.filter(order=order).values_list("event", flat=True))
    assert decided == (["order.approved"] if order.state == Order.State.APPROVED else [])

    Order.objects.filter(pk=order.pk).update(state=Order.State.APPROVED)
    order_capture(actor=cast.merchant, order_id=order.pk)
    order_ship(actor=cast.merchant, order_id=order.pk, carrier="dhl_germany", tracking_number="00340434161094015902")
    events = list(WebhookDelivery.objects.filter(order=order).order_by("pk").values_list("event", flat=True))
    assert events[-2:] == ["order.captured", "order.shipped"]

    other = hooked.delta_order3
    Order.objects.filter(pk=other.pk).update(state=Order.State.APPROVED)
    order_cancel(actor=cast.merchant, order_id=other.pk)
    cancelled = WebhookDelivery.objects.get(order=other)
    assert cancelled.event == "order.cancelled" and cancelled.payload["state"] == "cancelled"
