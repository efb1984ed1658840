"""The demo's named clients get their portal logins through the clients app's service."""

import pytest

from clients.models import Client
from intermediaries.demo import client_logins_link
from portal.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_the_named_clients_get_their_logins_once_and_audited(cast):
    for number in ("C0001", "C0002", "C0003", "C0004"):
        Client.objects.create(number=number, first_name="Named", last_name=number)

    assert client_logins_link() == 3
    assert client_logins_link() == 0

    logins = dict(Client.objects.values_list("number", "user__email"))
    assert logins == {
        "C0001": "client1@example.com",
        "C0002": "client2@example.com",
        "C0003": "client3@example.com",
        "C0004": None,
    }
    linked = AuditEvent.objects.filter(action="client.user_linked", actor_label="demo")
    assert sorted(linked.values_list("changes__user", flat=True)) == sorted(email for email in logins.values() if email)
