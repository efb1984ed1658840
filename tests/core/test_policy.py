"""One rule per policy, two ways to apply it: as a database filter, and on a loaded object in Python."""

import pytest
from django.db.models import Q

from clients.models import Client
from portal.core.policy import NOTHING, q_matches

pytestmark = pytest.mark.django_db


@pytest.fixture
def anna(cast):
    return Client.objects.create(
        number="A1", first_name="Anna", last_name="Alt", advisor=cast.broker1, user=cast.client1
    )


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        (Q(number="A1"), True),
        (Q(number="B2"), False),
        (Q(number__exact="A1"), True),
        (Q(pk__in=[]), False),
        (~Q(number="A1"), False),
        (Q(number="B2") | Q(first_name="Anna"), True),
        (Q(number="A1") & Q(first_name="Bob"), False),
        (~(Q(number="B2") | Q(status="closed")), True),
    ],
)
def test_plain_lookups_are_decided_in_python(anna, q, expected):
    assert q_matches(anna, q) is expected
    assert Client.objects.filter(q, pk=anna.pk).exists() is expected  # the database agrees


def test_relations_compare_by_key_and_lists_hold_keys_or_objects(cast, anna):
    assert q_matches(anna, Q(advisor=cast.broker1)) is True
    assert q_matches(anna, Q(advisor=cast.broker3)) is False
    assert q_matches(anna, Q(user=cast.client1)) is True
    assert q_matches(anna, Q(pk__in=[anna.pk, 999])) is True
    assert q_matches(anna, Q(advisor__in=[cast.broker2, cast.broker1])) is True
    assert q_matches(anna, NOTHING) is False


def test_a_lookup_through_a_relation_not_loaded_is_left_to_the_database(cast, anna):
    fresh = Client.objects.get(pk=anna.pk)
    assert q_matches(fresh, Q(advisor__organisation_id=cast.alpha.pk)) is None
    loaded = Client.objects.select_related("advisor").get(pk=anna.pk)
    assert q_matches(loaded, Q(advisor__organisation_id=cast.alpha.pk)) is True
    assert q_matches(loaded, Q(advisor__organisation_id=cast.beta.pk)) is False


def test_a_lookup_it_does_not_know_is_left_to_the_database(anna):
    assert q_matches(anna, Q(number__startswith="A")) is None
    assert q_matches(anna, Q(no_such_field=1)) is None
