"""Statements through the approval engine: closing asks for approval, back office approves or rejects
(never the preparer), a rejected statement is prepared again, the beneficiary reads "in review", and
the old four-eyes history is migrated with its dates and people."""

import csv
import io
from datetime import timedelta
from importlib import import_module

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from commissions import services
from commissions.models import Statement
from commissions.services import STATEMENT_KIND
from portal.approvals.models import Approval
from portal.audit.models import AuditEvent
from portal.inbox.models import WorkItem
from portal.inbox.selectors import inbox_count
from portal.notifications.models import Notification
from tests.api_keys.conftest import auth, key_for

from .conftest import SEPTEMBER

pytestmark = pytest.mark.django_db
KIND = "commissions.statement"
REASON = "Override counted twice"


@pytest.fixture
def prepared(cast, workspace, plans, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    services.month_accrue(period=SEPTEMBER)
    services.month_close_start(actor=cast.admin, period=SEPTEMBER)
    services.month_close_finish(period=SEPTEMBER)
    return Statement.objects.get(beneficiary=cast.broker1, period=SEPTEMBER)


def approval_of(statement, state="pending") -> Approval:
    return Approval.objects.get(kind=KIND, object_id=statement.pk, state=state)


def reject(cast, statement, reason=REASON):
    return services.statement_reject(
        actor=cast.backoffice, statement_id=statement.pk, reason=reason, second_factor_verified=True
    )


def test_closing_asks_for_an_approval_of_each_prepared_statement(cast, prepared):
    statements = Statement.objects.filter(period=SEPTEMBER)
    approvals = Approval.objects.filter(kind=KIND, state="pending")
    assert approvals.count() == statements.count() > 1
    approval = approval_of(prepared)
    assert approval.maker == cast.admin and approval.amount == prepared.total and approval.currency == "EUR"
    assert approval.subject == f"2026-09 · {cast.broker1.get_full_name()}" and approval.party == "Alpha Invest"
    assert approval.url == f"/commissions/{prepared.pk}/"
    # backoffice@ is alerted; admin@ prepared them and is not.
    # Back office finds them in the work inbox, not in one notification per statement.
    assert not Notification.objects.filter(user=cast.backoffice, event="approvals.requested").exists()
    waiting = WorkItem.objects.filter(kind=STATEMENT_KIND, closed_at__isnull=True)
    assert sorted(waiting.values_list("object_id", flat=True)) == sorted(approvals.values_list("pk", flat=True))
    assert inbox_count(actor=cast.backoffice, kind=STATEMENT_KIND) == statements.count()
    assert inbox_count(actor=cast.admin, kind=STATEMENT_KIND) == 0  # the preparer's own: not their work
    assert not Notification.objects.filter(user=cast.admin, event="approvals.requested").exists()


def test_approving_decides_the_approval_and_moves_the_statement_together(cast, prepared):
    services.statement_approve(actor=cast.backoffice, statement_id=prepared.pk, second_factor_verified=True)
    prepared.refresh_from_db()
    approval = approval_of(prepared, "approved")
    decision = approval.decisions.get()
    assert prepared.status == Statement.Status.APPROVED and prepared.approved_by == cast.backoffice
    assert prepared.approved_at == decision.at and decision.actor == cast.backoffice
    assert AuditEvent.objects.filter(action="approvals.approved", object_id=str(approval.pk)).count() == 1


def test_a_rejection_needs_a_reason_and_never_comes_from_the_preparer(cast, prepared):
    with pytest.raises(ValidationError):
        reject(cast, prepared, reason="  ")
    with pytest.raises(ValidationError) as refused:
        services.statement_reject(
            actor=cast.admin, statement_id=prepared.pk, reason="mine", second_factor_verified=True
        )
    assert refused.value.code == "four_eyes"
    with pytest.raises(PermissionDenied):
        services.statement_reject(
            actor=cast.backoffice, statement_id=prepared.pk, reason="x", second_factor_verified=False
        )
    prepared.refresh_from_db()
    assert prepared.status == Statement.Status.PREPARED and approval_of(prepared)


def test_a_rejected_statement_keeps_the_reason_and_tells_the_preparer(cast, prepared):
    reject(cast, prepared)
    prepared.refresh_from_db()
    assert prepared.status == Statement.Status.REJECTED and prepared.rejection_reason == REASON
    assert prepared.rejected_by == cast.backoffice and prepared.approved_by is None
    assert approval_of(prepared, "rejected").rejection_reason == REASON
    event = AuditEvent.objects.get(action="commissions.statement_rejected", object_id=str(prepared.pk))
    assert event.changes["reason"] == REASON
    assert REASON in Notification.objects.get(user=cast.admin, event="approvals.decided").body
    with pytest.raises(ValidationError):
        services.statement_mark_paid(actor=cast.backoffice, statement_id=prepared.pk, second_factor_verified=True)


def test_a_rejected_statement_is_prepared_again_and_approved_by_someone_else(cast, prepared):
    reject(cast, prepared)
    with pytest.raises(ValidationError):
        services.statement_approve(actor=cast.admin, statement_id=prepared.pk, second_factor_verified=True)
    services.statement_resubmit(actor=cast.backoffice, statement_id=prepared.pk)
    prepared.refresh_from_db()
    assert prepared.status == Statement.Status.PREPARED and prepared.prepared_by == cast.backoffice
    assert prepared.rejection_reason == "" and approval_of(prepared).maker == cast.backoffice
    with pytest.raises(ValidationError) as refused:
        services.statement_approve(actor=cast.backoffice, statement_id=prepared.pk, second_factor_verified=True)
    assert refused.value.code == "four_eyes"
    services.statement_approve(actor=cast.admin, statement_id=prepared.pk, second_factor_verified=True)
    prepared.refresh_from_db()
    assert prepared.status == Statement.Status.APPROVED and prepared.approved_by == cast.admin
    # The history keeps both rounds.
    assert list(Approval.objects.filter(kind=KIND, object_id=prepared.pk).values_list("state", flat=True)) == [
        "approved",
        "rejected",
    ]
    with pytest.raises(ValidationError):
        services.statement_resubmit(actor=cast.backoffice, statement_id=prepared.pk)


def test_the_preparer_cannot_approve_on_the_approvals_page_and_another_can(cast, prepared, login_as):
    approval = approval_of(prepared)
    client = login_as(cast.admin)
    html = client.get(f"/approvals/{approval.pk}/").content.decode()
    assert 'data-testid="approve-button"' not in html
    assert client.post(f"/approvals/{approval.pk}/approve/").status_code == 400
    prepared.refresh_from_db()
    assert prepared.status == Statement.Status.PREPARED
    login_as(cast.backoffice).post(f"/approvals/{approval.pk}/approve/")
    prepared.refresh_from_db()
    assert prepared.status == Statement.Status.APPROVED and prepared.approved_by == cast.backoffice


def test_an_api_key_cannot_approve_a_statement(cast, prepared):
    _, secret = key_for(cast.backoffice, {"approvals": "write"})
    approval = approval_of(prepared)
    from django.test import Client

    response = Client().post(
        f"/api/v1/approvals/{approval.pk}/approve/", {}, content_type="application/json", **auth(secret)
    )
    assert response.status_code == 403 and response.json()["error"]["code"] == "second_factor_required"
    assert Statement.objects.get(pk=prepared.pk).status == Statement.Status.PREPARED


def test_the_beneficiary_reads_in_review_and_never_the_reason(cast, prepared, login_as):
    reject(cast, prepared)
    client = login_as(cast.broker1)
    for page in (client.get("/commissions/"), client.get(f"/commissions/{prepared.pk}/")):
        html = page.content.decode()
        assert "In review" in html and REASON not in html and "Rejected" not in html, page.request["PATH_INFO"]
    api = client.get(f"/api/v1/commissions/{prepared.pk}/").json()
    assert api["status"] == "prepared" and REASON not in str(api)
    listed = client.get("/api/v1/commissions/", {"status": "prepared"}).json()["results"]
    assert prepared.pk in {s["id"] for s in listed}
    assert client.get("/api/v1/commissions/", {"status": "rejected"}).json()["count"] == 0
    assert 'value="rejected"' not in client.get("/commissions/").content.decode()
    rows = list(csv.reader(io.StringIO(b"".join(client.get("/commissions/export.csv").streaming_content).decode())))
    assert "In review" in {row[10] for row in rows[1:]} and REASON not in str(rows)


def test_back_office_sees_the_rejection_with_its_reason_and_approvals(cast, prepared, login_as):
    reject(cast, prepared)
    html = login_as(cast.backoffice).get(f"/commissions/{prepared.pk}/").content.decode()
    assert 'data-testid="statement-rejection-reason"' in html and REASON in html
    assert 'data-testid="statement-approvals"' in html and "Rejected, to be prepared again" in html


def test_admin_rejects_with_a_reason_and_prepares_again(cast, prepared, login_as):
    changelist = reverse("admin:commissions_statement_changelist")
    client = login_as(cast.backoffice)
    asked = client.post(changelist, {"action": "reject", "_selected_action": [prepared.pk]})
    assert 'data-testid="admin-reject-reason"' in asked.content.decode()
    client.post(changelist, {"action": "reject", "_selected_action": [prepared.pk], "apply": "1", "reason": REASON})
    prepared.refresh_from_db()
    assert prepared.status == Statement.Status.REJECTED and prepared.rejection_reason == REASON
    client.post(changelist, {"action": "resubmit", "_selected_action": [prepared.pk]})
    prepared.refresh_from_db()
    assert prepared.status == Statement.Status.PREPARED and approval_of(prepared).maker == cast.backoffice


def test_a_prepared_statement_without_an_approval_gets_one_when_decided(cast, prepared):
    Approval.objects.filter(kind=KIND, object_id=prepared.pk).delete()
    services.statement_approve(actor=cast.backoffice, statement_id=prepared.pk, second_factor_verified=True)
    assert approval_of(prepared, "approved").maker == cast.admin


def test_the_migration_keeps_the_history_with_its_dates_and_people(cast, prepared):
    migration = import_module("commissions.migrations.0004_statement_approvals")
    others = list(Statement.objects.filter(period=SEPTEMBER).exclude(pk=prepared.pk))
    approved_at = timezone.now() - timedelta(days=3)
    Statement.objects.filter(pk=prepared.pk).update(
        status=Statement.Status.PAID, approved_by=cast.backoffice, approved_at=approved_at
    )
    migration.backwards(django_apps, None)
    assert not Approval.objects.filter(kind=KIND).exists()
    migration.forwards(django_apps, None)
    migration.forwards(django_apps, None)  # a second run adds nothing
    paid = approval_of(prepared, "approved")
    decision = paid.decisions.get()
    assert (paid.maker, paid.requested_at, paid.decided_at) == (cast.admin, prepared.prepared_at, approved_at)
    assert (decision.actor, decision.at, decision.outcome) == (cast.backoffice, approved_at, "approve")
    for statement in others:
        pending = approval_of(statement)
        assert pending.maker == cast.admin and pending.requested_at == statement.prepared_at
    assert Approval.objects.filter(kind=KIND).count() == len(others) + 1


def test_the_inbox_migration_opens_an_item_for_each_pending_statement_approval(cast, prepared):
    """Approvals that 0004 created for statements prepared before the engine wait in the work inbox."""
    migration = import_module("commissions.migrations.0005_statement_approvals_into_work_inbox")
    pending = Approval.objects.filter(kind=KIND, state="pending")
    WorkItem.objects.filter(kind=KIND).delete()
    migration.open_items(django_apps, None)
    migration.open_items(django_apps, None)  # a second run adds nothing
    items = WorkItem.objects.filter(kind=KIND, closed_at__isnull=True)
    assert sorted(items.values_list("object_id", flat=True)) == sorted(pending.values_list("pk", flat=True))
    item = items.get(object_id=approval_of(prepared).pk)
    assert item.url == reverse("approvals:approval-detail", args=[item.object_id])
    assert inbox_count(actor=cast.backoffice, kind=KIND) == pending.count()
