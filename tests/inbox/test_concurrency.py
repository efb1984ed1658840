"""Parallel claims on PostgreSQL: however many people press "Claim" at once, one of them gets the item."""

import pytest
from django.core.exceptions import ValidationError

from portal.audit.models import AuditEvent
from portal.inbox.models import WorkItem
from portal.inbox.services import work_item_claim
from tests.factories import UserFactory
from tests.parallel import in_parallel

from .conftest import signed_case

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_twenty_parallel_claims_from_three_people_give_one_assignee(cast):
    third = UserFactory(email="backoffice3@example.com", roles=["backoffice"])
    people = [cast.backoffice, cast.admin, third]
    item = signed_case(1)

    outcomes = in_parallel(20, lambda n: work_item_claim(actor=people[n % 3], item_id=item.pk))

    winner = WorkItem.objects.get(pk=item.pk).assignee
    assert winner in people
    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    assert {o.code for o in refused} == {"taken"}
    # Everyone but the winner was refused; the winner's own repeated claims changed nothing.
    assert all(isinstance(o, WorkItem) and o.assignee == winner for o in outcomes if not isinstance(o, ValidationError))
    assert len(refused) == sum(1 for n in range(20) if people[n % 3] != winner)
    assert AuditEvent.objects.filter(action="inbox.item_claimed").count() == 1
