"""Two kinds of approval registered by a pretend app, on the cast's firms (any model would do).

- `tests.limit`: back office decides alone, with a verified second factor (like commission statements).
- `tests.credit`: back office or credit analysts, no second factor, two people from 1,000 EUR on,
  due a day after the request.
"""

from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest

from portal.accounts.models import Organisation
from portal.accounts.roles import Role
from portal.approvals import services
from portal.approvals.registry import register_approval_kind, unregister_approval_kind
from tests.factories import UserFactory

LIMIT = "tests.limit"
CREDIT = "tests.credit"


def describe(firm):
    return (f"Firm {firm.name}", firm.name, f"/firms/{firm.pk}/")


@pytest.fixture
def kinds():
    limit = register_approval_kind(
        LIMIT,
        model=Organisation,
        label="Limit change",
        approver_roles={Role.BACKOFFICE},
        second_factor=True,
        describe=describe,
    )
    credit = register_approval_kind(
        CREDIT,
        model=Organisation,
        label="Credit line",
        approver_roles={Role.BACKOFFICE, Role.CREDIT_ANALYST},
        thresholds=[(Decimal("1000"), 2)],
        due_after=timedelta(days=1),
        describe=describe,
    )
    yield SimpleNamespace(limit=limit, credit=credit)
    unregister_approval_kind(LIMIT)
    unregister_approval_kind(CREDIT)


@pytest.fixture
def staff(cast):
    """More deciders: a second back-office person and a credit analyst (all staff)."""
    return SimpleNamespace(
        backoffice2=UserFactory(email="backoffice2@example.com", is_staff=True, roles=[Role.BACKOFFICE]),
        analyst=UserFactory(email="analyst@example.com", is_staff=True, roles=[Role.CREDIT_ANALYST]),
        # Holds the role but is not staff: deciders must be both.
        analyst_not_staff=UserFactory(email="analyst-ns@example.com", roles=[Role.CREDIT_ANALYST]),
    )


def request_limit(cast, *, maker=None, firm=None):
    return services.approval_request(kind=LIMIT, obj=firm or cast.alpha, maker=maker or cast.admin)


def request_credit(cast, *, amount="500.00", maker=None, firm=None):
    return services.approval_request(
        kind=CREDIT, obj=firm or cast.beta, maker=maker or cast.admin, amount=Decimal(amount), currency="eur"
    )
