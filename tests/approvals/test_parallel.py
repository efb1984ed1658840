"""Parallel decisions give exactly one outcome (PostgreSQL: real row locks, one connection per thread)."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError

from portal.approvals import services
from portal.approvals.events import approval_decided
from portal.approvals.models import Approval
from portal.audit.models import AuditEvent
from tests.parallel import in_parallel

from .conftest import request_credit, request_limit

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def outcomes_signalled():
    seen = []

    def on_decided(sender, approval, outcome, **kwargs):
        seen.append((approval.pk, outcome))

    approval_decided.connect(on_decided, dispatch_uid="test-parallel")
    yield seen
    approval_decided.disconnect(dispatch_uid="test-parallel")


def _people(cast, staff):
    User = get_user_model()
    return [User.objects.get(pk=u.pk) for u in (cast.backoffice, staff.backoffice2, staff.analyst)]


def test_twenty_parallel_approvals_from_three_people_of_a_two_approver_case(cast, kinds, staff, outcomes_signalled):
    approval = request_credit(cast, amount="5000")
    people = _people(cast, staff)

    def approve(n):
        services.approval_approve(actor=people[n % 3], approval_id=approval.pk, second_factor_verified=False)
        return "approved"

    outcomes = in_parallel(20, approve)
    assert outcomes.count("approved") == 2, outcomes
    assert all(isinstance(o, ValidationError) for o in outcomes if o != "approved"), outcomes
    approval.refresh_from_db()
    assert approval.state == Approval.State.APPROVED
    approvers = [d.actor_id for d in approval.decisions.all()]
    assert len(approvers) == 2 and len(set(approvers)) == 2
    assert AuditEvent.objects.filter(action="approvals.approved", object_id=str(approval.pk)).count() == 1
    assert outcomes_signalled == [(approval.pk, "approved")]


def test_twenty_parallel_approve_and_reject_calls_give_one_outcome(cast, kinds, staff, outcomes_signalled):
    approval = request_limit(cast)
    people = _people(cast, staff)

    def decide(n):
        actor = people[n % 3]
        if n % 2:
            services.approval_reject(actor=actor, approval_id=approval.pk, reason="no", second_factor_verified=True)
            return "rejected"
        services.approval_approve(actor=actor, approval_id=approval.pk, second_factor_verified=True)
        return "approved"

    outcomes = in_parallel(20, decide)
    won = [o for o in outcomes if isinstance(o, str)]
    assert len(won) == 1, outcomes
    # The analyst may not decide this kind (PermissionDenied); everybody else lost the race.
    assert all(isinstance(o, ValidationError | PermissionDenied) for o in outcomes if not isinstance(o, str))
    approval.refresh_from_db()
    assert approval.state == won[0] and approval.decisions.count() == 1
    assert outcomes_signalled == [(approval.pk, won[0])]
