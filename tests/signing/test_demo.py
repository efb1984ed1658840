"""The demo step: broker1's requests in every state, written through the services; a second run changes nothing."""

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
    assert sorted(requests.values_list("status", flat=True)) == sorted(
        ["sent", "viewed", "signed", "processed", "declined", "draft", "cancelled"]
    )
    assert {r.sender for r in requests} == {cast.broker1}
    assert {r.recipient for r in requests} == {cast.client1, cast.client2}
    signed = requests.get(status="signed")
    assert signed.evidence.content_hash == signed.content_hash
    assert all(a.sha256 for r in requests for a in r.attachments.all())
    assert "already present" in out.getvalue()
