"""The client policy, role by role: who sees which client (pages, API and exports all go through it)."""

import pytest
from django.http import Http404

from clients.models import Client
from clients.selectors import access_client, client_list
from clients.services import client_share

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(cast):
    return {
        "a1": Client.objects.create(
            number="A1", first_name="A", last_name="One", advisor=cast.broker1, user=cast.client1
        ),
        "a2": Client.objects.create(number="A2", first_name="A", last_name="Two", advisor=cast.broker2),
        "b1": Client.objects.create(
            number="B1", first_name="B", last_name="One", advisor=cast.broker3, user=cast.client3
        ),
        "orphan": Client.objects.create(number="O1", first_name="O", last_name="Orphan"),
    }


EXPECTED = {
    "broker1": {"A1"},
    "broker2": {"A2"},
    "broker3": {"B1"},
    "manager": {"A1", "A2"},
    "backoffice": {"A1", "A2", "B1", "O1"},
    "client1": {"A1"},
    "client2": set(),
    "client3": {"B1"},
    "partner": set(),
    "merchant": set(),
    "outsider": set(),
}


@pytest.mark.parametrize(("who", "visible"), sorted(EXPECTED.items()))
def test_each_role_sees_exactly_its_clients(cast, book, who, visible):
    actor = getattr(cast, who)
    assert set(client_list(actor=actor).values_list("number", flat=True)) == visible
    for number, client in ((c.number, c) for c in book.values()):
        if number in visible:
            assert access_client(actor=actor, client_id=client.pk) == client
        else:
            with pytest.raises(Http404):
                access_client(actor=actor, client_id=client.pk)


def test_a_shared_client_becomes_visible_to_the_colleague_only(cast, book):
    client_share(actor=cast.manager, client=book["a2"], broker=cast.broker1)
    assert set(client_list(actor=cast.broker1).values_list("number", flat=True)) == {"A1", "A2"}
    assert set(client_list(actor=cast.broker3).values_list("number", flat=True)) == {"B1"}


def test_a_client_page_reads_the_row_once_and_the_shares_only_when_needed(
    cast, book, django_assert_num_queries, settings
):
    settings.PORTAL_CACHE_TOMBSTONE_SECONDS = 0  # as if the share was made a while ago
    client_share(actor=cast.manager, client=book["a2"], broker=cast.broker1)
    cast.broker1.roles  # noqa: B018 (the roles are read once per request, by the role check before)
    with django_assert_num_queries(1):  # the client's row; their own client needs no shares
        assert access_client(actor=cast.broker1, client_id=book["a1"].pk) == book["a1"]
    with django_assert_num_queries(0):  # the row is cached until the data changes
        assert access_client(actor=cast.broker1, client_id=book["a1"].pk) == book["a1"]

    with django_assert_num_queries(2):  # a colleague's client: the row, then the broker's shares
        assert access_client(actor=cast.broker1, client_id=book["a2"].pk) == book["a2"]
    with django_assert_num_queries(0):
        assert access_client(actor=cast.broker1, client_id=book["a2"].pk) == book["a2"]
    with django_assert_num_queries(1), pytest.raises(Http404):  # another firm's: the row, shares cached
        access_client(actor=cast.broker1, client_id=book["b1"].pk)


@pytest.mark.parametrize("shared", [False, True])
def test_the_list_filter_and_the_one_client_decision_agree_for_every_role(cast, book, shared):
    from clients.permissions import clients

    if shared:
        client_share(actor=cast.manager, client=book["a2"], broker=cast.broker1)
    for who in EXPECTED:
        actor = getattr(cast, who)
        for action in clients.actions:
            listed = set(Client.objects.restrict(actor, action).values_list("pk", flat=True))
            decided = {c.pk for c in Client.objects.all() if clients.has(actor, c, action)}
            assert decided == listed, (who, action)


def test_a_revoked_share_closes_the_client_page_at_once(cast, book):
    from clients.services import client_unshare

    client_share(actor=cast.manager, client=book["a2"], broker=cast.broker1)
    assert access_client(actor=cast.broker1, client_id=book["a2"].pk) == book["a2"]

    client_unshare(actor=cast.manager, client=book["a2"], broker=cast.broker1)

    with pytest.raises(Http404):
        access_client(actor=cast.broker1, client_id=book["a2"].pk)


def test_a_manager_cannot_share_another_firms_client(cast, book):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        client_share(actor=cast.manager, client=book["b1"], broker=cast.broker1)


def test_a_manager_cannot_share_with_a_broker_of_another_firm(cast, book):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        client_share(actor=cast.manager, client=book["a1"], broker=cast.broker3)
    assert set(client_list(actor=cast.broker3).values_list("number", flat=True)) == {"B1"}


def test_a_malformed_id_is_simply_not_found(cast, book):
    with pytest.raises(Http404):
        access_client(actor=cast.broker1, client_id="abc")
