"""The policy matrix: every role of the cast × both kinds × view and decide, through the selector
(lists), the case page, the decision service and the API. The maker sees but never decides."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from portal.approvals import selectors, services
from portal.approvals.models import Approval
from portal.approvals.permissions import approvals as policy

from .conftest import request_credit, request_limit

pytestmark = pytest.mark.django_db

# role -> (may view, may decide) for tests.limit (back office) and tests.credit (back office, analysts)
MATRIX = {
    "admin": {"limit": (True, False), "credit": (True, False)},  # the maker of both
    "backoffice": {"limit": (True, True), "credit": (True, True)},
    "backoffice2": {"limit": (True, True), "credit": (True, True)},
    "analyst": {"limit": (False, False), "credit": (True, True)},
    "analyst_not_staff": {"limit": (False, False), "credit": (False, False)},
    "manager": {"limit": (False, False), "credit": (False, False)},
    "broker1": {"limit": (False, False), "credit": (False, False)},
    "client1": {"limit": (False, False), "credit": (False, False)},
    "partner": {"limit": (False, False), "credit": (False, False)},
    "merchant": {"limit": (False, False), "credit": (False, False)},
    "outsider": {"limit": (False, False), "credit": (False, False)},
}


def person(cast, staff, name):
    return getattr(staff, name, None) or getattr(cast, name)


@pytest.fixture
def cases(cast, kinds):
    return {"limit": request_limit(cast), "credit": request_credit(cast)}


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_the_policy_matrix(cast, staff, cases, login_as, name):
    user = person(cast, staff, name)
    client = login_as(user)
    for kind, approval in cases.items():
        may_view, may_decide = MATRIX[name][kind]
        assert policy.has(user, approval, "view") is may_view, (name, kind)
        assert policy.has(user, approval, "decide") is may_decide, (name, kind)
        listed = set(selectors.approval_list(actor=user).values_list("pk", flat=True))
        assert (approval.pk in listed) is may_view, (name, kind)
        page = client.get(f"/approvals/{approval.pk}/")
        assert page.status_code == (200 if may_view else 404), (name, kind)
        if may_decide:
            continue
        with pytest.raises((PermissionDenied, ValidationError)):
            services.approval_approve(actor=user, approval_id=approval.pk, second_factor_verified=True)
        with pytest.raises((PermissionDenied, ValidationError)):
            services.approval_reject(actor=user, approval_id=approval.pk, reason="no", second_factor_verified=True)
        forged = client.post(f"/approvals/{approval.pk}/approve/")
        assert forged.status_code == (400 if may_view else 404), (name, kind)
        assert Approval.objects.get(pk=approval.pk).state == Approval.State.PENDING


@pytest.mark.parametrize("name", ["backoffice", "analyst"])
def test_each_decider_decides_what_the_matrix_allows(cast, staff, cases, name):
    user = person(cast, staff, name)
    for kind, approval in cases.items():
        if MATRIX[name][kind][1]:
            services.approval_approve(actor=user, approval_id=approval.pk, second_factor_verified=True)
            assert Approval.objects.get(pk=approval.pk).state == Approval.State.APPROVED


def test_the_maker_of_a_case_sees_it_even_without_an_approver_role(cast, kinds, staff):
    mine = request_credit(cast, maker=cast.broker1)
    assert list(selectors.approval_list(actor=cast.broker1)) == [mine]
    assert not policy.has(cast.broker1, mine, "decide")
    assert list(selectors.approval_list(actor=cast.broker2)) == []
