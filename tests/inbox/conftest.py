"""The inbox's tests use two kinds: signing's signed requests (the real one) and a credit case of their
own, which credit analysts see only in their queue while the back office sees all of it."""

import pytest
from django.db.models import Q
from django.utils import timezone

from portal.accounts.roles import Role
from portal.inbox import registry
from portal.inbox.services import work_item_open
from signing.inbox import KIND as SIGNED
from tests.factories import OrganisationFactory, UserFactory

CREDIT = "tests.credit_case"


def credit_scope(actor):
    # The back office sees every credit case; an analyst only those in the credit queue.
    return Q() if actor.has_role(Role.BACKOFFICE) else Q(queue="credit")


@pytest.fixture
def credit_kind():
    kind = registry.register_inbox_kind(
        CREDIT,
        label="Credit case",
        roles={Role.BACKOFFICE, Role.CREDIT_ANALYST},
        scope=credit_scope,
        order=20,
        count_label="Credit cases waiting",
    )
    yield kind
    registry.unregister_inbox_kind(CREDIT)


@pytest.fixture
def analyst(cast):
    return UserFactory(email="analyst@example.com", first_name="Ada", last_name="Analyst", roles=[Role.CREDIT_ANALYST])


def case(n: int = 0, *, kind: str = CREDIT, queue: str = "credit", due_in=None, **fields):
    """An open item of `kind` for a fresh object (an organisation stands in for the app's object)."""
    obj = OrganisationFactory(name=f"Case {kind} {n}")
    return work_item_open(
        kind=kind,
        obj=obj,
        subject=fields.pop("subject", f"Case {n}"),
        party=fields.pop("party", f"Customer {n}"),
        url=fields.pop("url", f"/somewhere/{obj.pk}/"),
        queue=queue,
        state=fields.pop("state", "Waiting"),
        due_at=timezone.now() + due_in if due_in is not None else None,
        **fields,
    )


def signed_case(n: int = 0, **fields):
    return case(n, kind=SIGNED, queue="", **fields)
