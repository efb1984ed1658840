"""Approvals in admin: nothing can be edited by hand, and the actions decide through the services."""

import pytest
from django.urls import reverse

from portal.approvals.models import Approval
from portal.approvals.roles import staff_permissions_grant

from .conftest import request_credit, request_limit

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:approvals_approval_changelist")


@pytest.fixture(autouse=True)
def _permissions(cast):
    staff_permissions_grant()


def test_a_change_form_post_cannot_flip_the_state(cast, kinds, login_as):
    approval = request_limit(cast)
    client = login_as(cast.admin)  # a superuser, and the maker
    change = reverse("admin:approvals_approval_change", args=[approval.pk])
    response = client.post(change, {"state": "approved", "decided_at": "2026-01-01 10:00", "rejection_reason": ""})
    assert response.status_code == 403
    response = login_as(cast.backoffice).post(change, {"state": "rejected", "rejection_reason": "x"})
    assert response.status_code == 403
    approval.refresh_from_db()
    assert approval.state == Approval.State.PENDING and not approval.decisions.exists()
    assert login_as(cast.backoffice).get(change).status_code == 200  # read it, yes


def test_the_admin_action_refuses_the_maker_and_lets_another_approve(cast, kinds, login_as):
    approval = request_limit(cast)
    refused = login_as(cast.admin).post(
        CHANGELIST, {"action": "approve", "_selected_action": [approval.pk]}, follow=True
    )
    assert "someone else must decide it" in refused.content.decode()
    assert Approval.objects.get(pk=approval.pk).state == Approval.State.PENDING
    login_as(cast.backoffice).post(CHANGELIST, {"action": "approve", "_selected_action": [approval.pk]})
    assert Approval.objects.get(pk=approval.pk).state == Approval.State.APPROVED


def test_the_reject_action_asks_for_a_reason_first(cast, kinds, login_as):
    approval = request_credit(cast)
    client = login_as(cast.backoffice)
    asked = client.post(CHANGELIST, {"action": "reject", "_selected_action": [approval.pk]})
    assert asked.status_code == 200 and 'data-testid="admin-reject-reason"' in asked.content.decode()
    empty = client.post(CHANGELIST, {"action": "reject", "_selected_action": [approval.pk], "apply": "1", "reason": ""})
    assert empty.status_code == 400 and "Say why you reject it." in empty.content.decode()
    assert Approval.objects.get(pk=approval.pk).state == Approval.State.PENDING
    client.post(CHANGELIST, {"action": "reject", "_selected_action": [approval.pk], "apply": "1", "reason": "No."})
    approval.refresh_from_db()
    assert approval.state == Approval.State.REJECTED and approval.rejection_reason == "No."


def test_admin_lists_only_what_the_policy_shows(cast, kinds, staff, login_as):
    request_limit(cast)
    credit = request_credit(cast)
    html = login_as(staff.analyst).get(CHANGELIST).content.decode()
    assert "Firm Beta Capital" in html and "Firm Alpha Invest" not in html
    assert credit.pk
