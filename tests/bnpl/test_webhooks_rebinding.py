"""DNS rebinding: a webhook host is resolved once per attempt, every address is checked, and the
connection goes to the checked address, never to a later answer of the resolver."""

import socket
from urllib.parse import urlsplit

import pytest
import requests

from bnpl import webhooks
from bnpl.models import WebhookAttempt, WebhookDelivery
from bnpl.services import merchant_webhook_secret_rotate

State = WebhookDelivery.State
pytestmark = pytest.mark.django_db
PUBLIC = "93.184.215.14"


class ChangingResolver:
    """getaddrinfo that answers from a list, one answer per call (the last one repeats), and counts calls."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = []

    def __call__(self, host, port, *args, **kwargs):
        self.calls.append(host)
        address = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]


@pytest.fixture
def rebinding_shop(shops, cast, webhook_receiver, settings):
    """Delta Shop's webhooks go to a name (hooks.shop.test) on the loopback receiver's port."""
    port = urlsplit(webhook_receiver.url).port
    shops.delta.webhook_url = f"http://hooks.shop.test:{port}/hooks"
    shops.delta.save(update_fields=["webhook_url"])
    merchant_webhook_secret_rotate(actor=cast.merchant, second_factor_verified=True, merchant_id=shops.delta.pk)
    shops.receiver = webhook_receiver
    return shops


def enqueue(shops):
    return webhooks.webhook_enqueue(
        merchant=shops.delta, event="order.shipped", order=shops.delta_order2, payload={"reference": "D-2"}
    )


@pytest.fixture
def connections(monkeypatch):
    """Where deliveries connect; a public address is never really dialled (no outside hosts in tests)."""
    seen = []
    real = webhooks._connect

    def connect(address, port, *args):
        seen.append(address)
        if address == PUBLIC:
            raise ConnectionRefusedError("test: outside addresses are not dialled")
        return real(address, port, *args)

    monkeypatch.setattr(webhooks, "_connect", connect)
    return seen


def test_a_name_that_turns_private_after_the_check_never_reaches_the_private_address(
    rebinding_shop, settings, monkeypatch, connections
):
    settings.BNPL_WEBHOOK_ALLOW_PRIVATE = False
    resolver = ChangingResolver(PUBLIC, "127.0.0.1")  # public when checked, loopback when asked again
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    delivery = enqueue(rebinding_shop)

    assert webhooks.webhook_deliver(delivery_id=delivery.pk) == State.FAILED

    assert resolver.calls == ["hooks.shop.test"]  # resolved once, by the check
    assert connections == [PUBLIC]  # connected to what was checked
    assert rebinding_shop.receiver.requests == []
    assert "93.184.215.14" in WebhookAttempt.objects.get(delivery=delivery).error


def test_the_next_attempt_resolves_again_and_refuses_a_private_answer(
    rebinding_shop, settings, monkeypatch, connections
):
    settings.BNPL_WEBHOOK_ALLOW_PRIVATE = False
    monkeypatch.setattr(socket, "getaddrinfo", ChangingResolver("10.0.0.5"))
    delivery = enqueue(rebinding_shop)

    assert webhooks.webhook_deliver(delivery_id=delivery.pk) == State.GIVEN_UP
    assert connections == []
    assert "not a public internet address" in WebhookAttempt.objects.get(delivery=delivery).error


def test_one_private_address_among_public_ones_refuses_the_url(settings, monkeypatch):
    settings.BNPL_WEBHOOK_ALLOW_PRIVATE = False
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, **kw: [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC, port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", port)),
        ],
    )
    with pytest.raises(webhooks.UrlRefused):
        webhooks.url_resolve("https://shop.example/hooks")


def test_the_pinned_connection_keeps_the_name_for_host_header_and_delivers(rebinding_shop, monkeypatch, connections):
    # Private addresses allowed (the receiver is on loopback): the name resolves once, the socket goes to
    # the checked address, and the request still names the host.
    resolver = ChangingResolver("127.0.0.1", "10.9.9.9")
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    delivery = enqueue(rebinding_shop)

    assert webhooks.webhook_deliver(delivery_id=delivery.pk) == State.DELIVERED

    [received] = rebinding_shop.receiver.requests
    port = urlsplit(rebinding_shop.delta.webhook_url).port
    assert received.headers["Host"] == f"hooks.shop.test:{port}"
    assert resolver.calls == ["hooks.shop.test"] and connections == ["127.0.0.1"]


def test_https_keeps_the_name_for_sni_and_the_certificate_while_dialling_the_checked_address(monkeypatch):
    checked = webhooks.CheckedUrl(url="https://shop.example/hooks", host="shop.example", port=443, addresses=(PUBLIC,))
    adapter = webhooks.PinnedAdapter(checked)
    request = requests.Request("POST", checked.url).prepare()
    pool = adapter.get_connection_with_tls_context(request, verify=True)
    connection = pool._new_conn()
    dialled = []
    monkeypatch.setattr(webhooks, "_connect", lambda address, port, *a: dialled.append((address, port)) or _Refused())

    with pytest.raises(_Stop):
        connection.connect()

    assert connection.host == "shop.example"  # what TLS sends as SNI and checks the certificate against
    assert dialled == [(PUBLIC, 443)]


def test_the_adapter_refuses_a_host_it_did_not_check(connections):
    checked = webhooks.CheckedUrl(url="http://shop.example/hooks", host="shop.example", port=80, addresses=(PUBLIC,))
    with requests.Session() as session:
        session.mount("http://", webhooks.PinnedAdapter(checked))
        with pytest.raises(requests.ConnectionError, match="not the checked host"):
            session.get("http://elsewhere.example/", timeout=1)
    assert connections == []


class _Stop(Exception):
    pass


class _Refused:
    """A socket stand-in that stops the TLS handshake before anything is sent."""

    def __getattr__(self, name):
        raise _Stop(name)
