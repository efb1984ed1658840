"""The engine's rules in the service, where every page, API call and admin action ends up."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from portal.approvals import services
from portal.approvals.events import approval_decided, approval_requested
from portal.approvals.models import Approval, ApprovalDecision
from portal.audit import context as audit_context
from portal.audit.models import AuditEvent
from portal.notifications.models import Notification

from .conftest import LIMIT, request_credit, request_limit

pytestmark = pytest.mark.django_db


@pytest.fixture
def received():
    """What the engine signalled, as (signal name, approval id, outcome)."""
    seen = []

    def on_requested(sender, approval, **kwargs):
        seen.append(("requested", approval.pk, approval.state))

    def on_decided(sender, approval, outcome, actor, decision, **kwargs):
        seen.append(("decided", approval.pk, outcome))

    approval_requested.connect(on_requested, dispatch_uid="test-requested")
    approval_decided.connect(on_decided, dispatch_uid="test-decided")
    yield seen
    approval_requested.disconnect(dispatch_uid="test-requested")
    approval_decided.disconnect(dispatch_uid="test-decided")


def test_a_request_is_pending_with_its_snapshot_audit_event_alerts_and_signal(cast, kinds, staff, received):
    approval = request_limit(cast)
    assert approval.state == Approval.State.PENDING and approval.approvals_required == 1
    assert (approval.subject, approval.party, approval.url) == (
        "Firm Alpha Invest",
        "Alpha Invest",
        f"/firms/{cast.alpha.pk}/",
    )
    assert approval.target == cast.alpha and approval.maker == cast.admin and approval.due_at is None
    event = AuditEvent.objects.get(action="approvals.requested", object_id=str(approval.pk))
    assert event.actor == cast.admin and event.changes["kind"] == LIMIT
    # The kind's approvers are alerted (in the portal and by e-mail), never the maker; others are not.
    alerted = set(Notification.objects.filter(event="approvals.requested").values_list("user__email", flat=True))
    assert alerted == {"backoffice@example.com", "backoffice2@example.com"}
    assert received == [("requested", approval.pk, "pending")]


def test_a_second_request_for_the_same_case_is_refused_while_one_is_pending(cast, kinds):
    request_limit(cast)
    with pytest.raises(ValidationError) as refused:
        request_limit(cast)
    assert refused.value.code == "pending_exists"
    assert Approval.objects.count() == 1


def test_the_maker_never_decides_their_own_case(cast, kinds, received):
    approval = request_limit(cast)
    for decide in (
        lambda: services.approval_approve(actor=cast.admin, approval_id=approval.pk, second_factor_verified=True),
        lambda: services.approval_reject(
            actor=cast.admin, approval_id=approval.pk, reason="no", second_factor_verified=True
        ),
    ):
        with pytest.raises(ValidationError) as refused:
            decide()
        assert refused.value.code == "four_eyes"
    approval.refresh_from_db()
    assert approval.state == Approval.State.PENDING and not approval.decisions.exists()
    assert [s for s in received if s[0] == "decided"] == []


def test_another_approver_approves_with_audit_event_ip_signal_and_the_maker_told(cast, kinds, received, rf):
    approval = request_limit(cast)
    request = rf.post("/", REMOTE_ADDR="203.0.113.7")
    token = audit_context.bind(audit_context.RequestContext(request_id="r1", request=request))
    try:
        services.approval_approve(
            actor=cast.backoffice, approval_id=approval.pk, second_factor_verified=True, reason="fine"
        )
    finally:
        audit_context.reset(token)
    approval.refresh_from_db()
    assert approval.state == Approval.State.APPROVED and approval.decided_at
    decision = approval.decisions.get()
    assert (decision.actor, decision.outcome, decision.reason, decision.ip) == (
        cast.backoffice,
        "approve",
        "fine",
        "203.0.113.7",
    )
    event = AuditEvent.objects.get(action="approvals.approved", object_id=str(approval.pk))
    assert (
        event.actor == cast.backoffice
        and event.ip == "203.0.113.7"
        and event.changes["state"]
        == [
            "pending",
            "approved",
        ]
    )
    assert ("decided", approval.pk, "approved") in received
    told = Notification.objects.get(user=cast.admin, event="approvals.decided")
    assert "Limit change" in told.title and "Approved" in told.title


def test_only_the_kinds_roles_decide_and_staff_only(cast, kinds, staff):
    limit = request_limit(cast)
    credit = request_credit(cast)
    for user in (cast.broker1, cast.manager, cast.client1, cast.partner, cast.outsider, staff.analyst):
        with pytest.raises(PermissionDenied):
            services.approval_approve(actor=user, approval_id=limit.pk, second_factor_verified=True)
    with pytest.raises(PermissionDenied):
        services.approval_approve(actor=staff.analyst_not_staff, approval_id=credit.pk, second_factor_verified=True)
    services.approval_approve(actor=staff.analyst, approval_id=credit.pk, second_factor_verified=False)
    credit.refresh_from_db()
    assert credit.state == Approval.State.APPROVED


def test_a_kind_that_needs_a_second_factor_refuses_an_unverified_decision(cast, kinds):
    approval = request_limit(cast)
    with pytest.raises(PermissionDenied):
        services.approval_approve(actor=cast.backoffice, approval_id=approval.pk, second_factor_verified=False)
    with pytest.raises(PermissionDenied):
        services.approval_reject(
            actor=cast.backoffice, approval_id=approval.pk, reason="no", second_factor_verified=False
        )
    assert Approval.objects.get(pk=approval.pk).state == Approval.State.PENDING


def test_a_rejection_needs_a_reason_and_keeps_it(cast, kinds, received):
    approval = request_limit(cast)
    for reason in ("", "   "):
        with pytest.raises(ValidationError) as refused:
            services.approval_reject(
                actor=cast.backoffice, approval_id=approval.pk, reason=reason, second_factor_verified=True
            )
        assert refused.value.message_dict == {"reason": ["Say why you reject it."]}
    assert not ApprovalDecision.objects.exists()
    services.approval_reject(
        actor=cast.backoffice, approval_id=approval.pk, reason="Totals look wrong", second_factor_verified=True
    )
    approval.refresh_from_db()
    assert approval.state == Approval.State.REJECTED and approval.rejection_reason == "Totals look wrong"
    assert approval.rejecter == cast.backoffice and approval.rejected_at == approval.decided_at
    assert ("decided", approval.pk, "rejected") in received
    told = Notification.objects.get(user=cast.admin, event="approvals.decided")
    assert "Totals look wrong" in told.body


def test_a_decided_case_takes_no_further_decision(cast, kinds, staff):
    approval = request_limit(cast)
    services.approval_approve(actor=cast.backoffice, approval_id=approval.pk, second_factor_verified=True)
    with pytest.raises(ValidationError) as refused:
        services.approval_reject(
            actor=staff.backoffice2, approval_id=approval.pk, reason="late", second_factor_verified=True
        )
    assert refused.value.code == "not_pending"


def test_under_the_threshold_one_approver_decides(cast, kinds, staff):
    approval = request_credit(cast, amount="999.99")
    assert approval.approvals_required == 1 and approval.currency == "EUR"
    services.approval_approve(actor=staff.analyst, approval_id=approval.pk, second_factor_verified=False)
    assert Approval.objects.get(pk=approval.pk).state == Approval.State.APPROVED


def test_from_the_threshold_on_two_distinct_people_must_approve(cast, kinds, staff, received):
    approval = request_credit(cast, amount="1000")
    assert approval.approvals_required == 2
    services.approval_approve(actor=staff.analyst, approval_id=approval.pk, second_factor_verified=False)
    approval.refresh_from_db()
    assert approval.state == Approval.State.PENDING and approval.approvers == [staff.analyst]
    assert AuditEvent.objects.filter(action="approvals.approval_recorded", object_id=str(approval.pk)).exists()
    assert [s for s in received if s[0] == "decided"] == []
    with pytest.raises(ValidationError) as twice:
        services.approval_approve(actor=staff.analyst, approval_id=approval.pk, second_factor_verified=False)
    assert twice.value.code == "already_decided"
    with pytest.raises(ValidationError) as twice:
        services.approval_reject(actor=staff.analyst, approval_id=approval.pk, reason="x", second_factor_verified=False)
    assert twice.value.code == "already_decided"
    services.approval_approve(actor=cast.backoffice, approval_id=approval.pk, second_factor_verified=False)
    approval = Approval.objects.get(pk=approval.pk)
    assert approval.state == Approval.State.APPROVED
    assert {d.actor for d in approval.decisions.all()} == {staff.analyst, cast.backoffice}
    assert [s for s in received if s[0] == "decided"] == [("decided", approval.pk, "approved")]


def test_a_bad_amount_is_refused_and_nothing_is_written(cast, kinds):
    with pytest.raises(ValidationError):
        request_credit(cast, amount="NaN")
    assert not Approval.objects.exists()


def test_only_the_maker_withdraws_a_pending_case(cast, kinds, received):
    approval = request_limit(cast)
    with pytest.raises(PermissionDenied):
        services.approval_withdraw(actor=cast.backoffice, approval_id=approval.pk)
    services.approval_withdraw(actor=cast.admin, approval_id=approval.pk)
    approval.refresh_from_db()
    assert approval.state == Approval.State.WITHDRAWN
    assert ("decided", approval.pk, "withdrawn") in received
    with pytest.raises(ValidationError):
        services.approval_withdraw(actor=cast.admin, approval_id=approval.pk)
    # A withdrawn case may be asked for again.
    assert request_limit(cast).state == Approval.State.PENDING


def test_overdue_cases_expire_once(cast, kinds, received):
    approval = request_credit(cast)
    not_due = request_limit(cast)
    assert approval.due_at == approval.requested_at + timedelta(days=1)
    assert services.approvals_expire() == 0
    later = timezone.now() + timedelta(days=1, minutes=1)
    assert services.approvals_expire(now=later) == 1
    assert services.approvals_expire(now=later) == 0
    approval.refresh_from_db()
    assert approval.state == Approval.State.EXPIRED and approval.decisions.get().actor is None
    assert Approval.objects.get(pk=not_due.pk).state == Approval.State.PENDING
    event = AuditEvent.objects.get(action="approvals.expired", object_id=str(approval.pk))
    assert event.actor is None and event.actor_label == "system"
    assert ("decided", approval.pk, "expired") in received


def test_a_receiver_that_refuses_undoes_the_decision(cast, kinds):
    approval = request_limit(cast)

    def refuse(sender, approval, outcome, **kwargs):
        raise ValidationError("The case changed meanwhile.")

    approval_decided.connect(refuse, dispatch_uid="test-refuse")
    try:
        with pytest.raises(ValidationError):
            services.approval_approve(actor=cast.backoffice, approval_id=approval.pk, second_factor_verified=True)
    finally:
        approval_decided.disconnect(dispatch_uid="test-refuse")
    approval.refresh_from_db()
    assert approval.state == Approval.State.PENDING and not approval.decisions.exists()
    assert not AuditEvent.objects.filter(action="approvals.approved").exists()


def test_the_amount_is_kept_to_cents(cast, kinds):
    assert request_credit(cast, amount="12.345").amount == Decimal("12.34")
