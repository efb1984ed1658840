"""The demo step: broker1's requests in every state and broker3's to client3, written through the services;
a second run changes nothing."""

import io

import pytest

from signing.demo import DEMO_ORIGIN, demo_step
from signing.models import SignatureRequest

pytestmark = pytest.mark.django_db


def test_the_demo_shows_every_state_and_can_run_twice(cast, book):
    out = io.StringIO()
    demo_step(scale="small", stdout=out)
    demo_step(scale="small", stdout=out)

    requests = SignatureRequest.objects.filter(origin=DEMO_ORIGIN)
    broker1s = requests.filter(sender=cast.broker1)
    assert sorted(broker1s.values_list("status", flat=True)) == sorted(
        ["sent", "viewed", "signed", "processed", "declined", "draft", "cancelled"]
    )
    assert {r.sender for r in requests} == {cast.broker1, cast.broker3}
    assert {r.recipient for r in broker1s} == {cast.client1, cast.client2}
    signed = broker1s.get(status="signed")
    assert signed.evidence.content_hash == signed.content_hash
    assert all(a.sha256 for r in requests for a in r.attachments.all())
    assert "already present" in out.getvalue()


def test_client3_has_a_request_waiting_and_one_signed(cast, book):
    demo_step(scale="small", stdout=io.StringIO())

    client3s = SignatureRequest.objects.filter(origin=DEMO_ORIGIN, recipient=cast.client3)
    assert sorted(client3s.values_list("status", flat=True)) == ["sent", "signed"]
    assert {r.sender for r in client3s} == {cast.broker3}
    signed = client3s.get(status="signed")
    assert signed.evidence.content_hash == signed.content_hash


def test_a_demo_written_before_client3_had_requests_gets_them_on_the_next_run(cast, book):
    email = cast.client3.email
    cast.client3.email = "not-yet-in-the-demo@example.com"  # the demo step does not find client3
    cast.client3.save(update_fields=["email"])
    demo_step(scale="small", stdout=io.StringIO())
    assert not SignatureRequest.objects.filter(recipient=cast.client3).exists()

    cast.client3.email = email
    cast.client3.save(update_fields=["email"])
    demo_step(scale="small", stdout=io.StringIO())

    assert SignatureRequest.objects.filter(origin=DEMO_ORIGIN, recipient=cast.client3).count() == 2
    assert SignatureRequest.objects.filter(origin=DEMO_ORIGIN, sender=cast.broker1).count() == 7
