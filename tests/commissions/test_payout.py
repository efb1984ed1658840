"""Closing a month, the statement PDF, four-eyes approval and payout."""

import subprocess
import threading
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction

from commissions import services
from commissions.models import CommissionMonth, Statement
from portal.audit.models import AuditEvent
from portal.notifications.models import Notification

from .conftest import SEPTEMBER

pytestmark = pytest.mark.django_db


def close(actor, period=SEPTEMBER):
    services.month_close_start(actor=actor, period=period)
    return services.month_close_finish(period=period)


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def closed(cast, workspace, plans, tmp_path, settings, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path
    services.month_accrue(period=SEPTEMBER)
    with django_capture_on_commit_callbacks(execute=True):
        close(cast.admin)  # the PDF tasks run once the close commits
    return {s.beneficiary_id: s for s in Statement.objects.filter(period=SEPTEMBER)}


def test_closing_prepares_every_statement_and_renders_its_pdf(cast, closed, settings):
    month = CommissionMonth.objects.get(period=SEPTEMBER)
    assert month.status == CommissionMonth.Status.CLOSED and month.closed_by == cast.admin
    statement = closed[cast.broker1.pk]
    assert statement.status == Statement.Status.PREPARED and statement.prepared_by == cast.admin
    assert statement.pdf and len(statement.pdf_sha256) == 64
    text = pdf_text(statement.pdf.path)
    assert "Commission statement" in text and "September 2026" in text
    assert cast.broker1.email in text and "Anna Albers" in text
    assert f"{statement.total:,.2f}" in text
    assert AuditEvent.objects.filter(action="commissions.statement_prepared", object_id=str(statement.pk)).exists()


def test_the_beneficiary_is_told_the_statement_is_ready(cast, closed):
    notification = Notification.objects.get(user=cast.broker1, event="commissions.statement_ready")
    assert "September 2026" in notification.title
    assert notification.link_url == f"/commissions/{closed[cast.broker1.pk].pk}/"


def test_a_month_can_be_closed_only_after_it_ended_and_only_by_back_office(cast, workspace, plans):
    with pytest.raises(ValidationError):
        services.month_close_start(actor=cast.admin, period=date(2099, 1, 1))
    for user in (cast.broker1, cast.manager):
        with pytest.raises(PermissionDenied):
            services.month_close_start(actor=user, period=SEPTEMBER)
    assert not CommissionMonth.objects.filter(status=CommissionMonth.Status.CLOSED).exists()


def test_closing_twice_is_refused_and_finishing_again_changes_nothing(cast, closed):
    with pytest.raises(ValidationError):
        services.month_close_start(actor=cast.backoffice, period=SEPTEMBER)
    assert services.month_close_finish(period=SEPTEMBER) == []


def test_the_preparer_cannot_approve_but_someone_else_can(cast, closed):
    statement = closed[cast.broker1.pk]
    with pytest.raises(ValidationError) as refused:
        services.statement_approve(actor=cast.admin, statement_id=statement.pk, second_factor_verified=True)
    assert refused.value.code == "four_eyes"
    statement.refresh_from_db()
    assert statement.status == Statement.Status.PREPARED
    services.statement_approve(actor=cast.backoffice, statement_id=statement.pk, second_factor_verified=True)
    statement.refresh_from_db()
    assert statement.status == Statement.Status.APPROVED and statement.approved_by == cast.backoffice
    event = AuditEvent.objects.get(action="commissions.statement_approved", object_id=str(statement.pk))
    assert event.actor == cast.backoffice and event.changes["status"] == ["prepared", "approved"]


def test_the_database_refuses_the_same_person_twice(cast, closed):
    statement = closed[cast.broker1.pk]
    with pytest.raises(IntegrityError), transaction.atomic():
        Statement.objects.filter(pk=statement.pk).update(approved_by=cast.admin, status=Statement.Status.APPROVED)


def test_approving_and_paying_need_back_office_and_a_second_factor(cast, closed):
    statement = closed[cast.broker1.pk]
    with pytest.raises(PermissionDenied):
        services.statement_approve(actor=cast.backoffice, statement_id=statement.pk, second_factor_verified=False)
    with pytest.raises(PermissionDenied):
        services.statement_approve(actor=cast.manager, statement_id=statement.pk, second_factor_verified=True)
    with pytest.raises(PermissionDenied):
        services.statement_mark_paid(actor=cast.broker1, statement_id=statement.pk, second_factor_verified=True)
    statement.refresh_from_db()
    assert statement.status == Statement.Status.PREPARED


def test_only_an_approved_statement_is_marked_paid(cast, closed):
    statement = closed[cast.broker1.pk]
    with pytest.raises(ValidationError):
        services.statement_mark_paid(actor=cast.backoffice, statement_id=statement.pk, second_factor_verified=True)
    services.statement_approve(actor=cast.backoffice, statement_id=statement.pk, second_factor_verified=True)
    services.statement_mark_paid(
        actor=cast.admin, statement_id=statement.pk, second_factor_verified=True, reference="  SEPA 2026-10-05 "
    )
    statement.refresh_from_db()
    assert statement.status == Statement.Status.PAID and statement.payment_reference == "SEPA 2026-10-05"
    with pytest.raises(ValidationError):
        services.statement_approve(actor=cast.backoffice, statement_id=statement.pk, second_factor_verified=True)
    assert AuditEvent.objects.filter(action="commissions.statement_paid", object_id=str(statement.pk)).count() == 1


def test_an_open_month_cannot_be_approved(cast, workspace, plans):
    services.month_accrue(period=SEPTEMBER)
    statement = Statement.objects.get(beneficiary=cast.broker1, period=SEPTEMBER)
    with pytest.raises(ValidationError):
        services.statement_approve(actor=cast.backoffice, statement_id=statement.pk, second_factor_verified=True)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_parallel_approvals_give_exactly_one_winner(cast, workspace, plans, tmp_path, settings):
    from django.contrib.auth import get_user_model

    from portal.accounts.roles import Role
    from tests.factories import UserFactory

    settings.MEDIA_ROOT = tmp_path
    services.month_accrue(period=SEPTEMBER)
    close(cast.admin)
    statement = Statement.objects.get(beneficiary=cast.broker1, period=SEPTEMBER)
    approvers = [cast.backoffice] + [
        UserFactory(email=f"approver{n}@example.com", is_staff=True, roles=[Role.BACKOFFICE]) for n in range(3)
    ]
    approvers = [get_user_model().objects.get(pk=u.pk) for u in approvers]
    barrier = threading.Barrier(len(approvers))
    outcomes = []

    def approve(user):
        try:
            barrier.wait()
            services.statement_approve(actor=user, statement_id=statement.pk, second_factor_verified=True)
            outcomes.append("won")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(u,)) for u in approvers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["refused"] * (len(approvers) - 1) + ["won"]
    assert AuditEvent.objects.filter(action="commissions.statement_approved", object_id=str(statement.pk)).count() == 1
