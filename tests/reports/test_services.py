from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from portal.audit.models import AuditEvent
from reports import services
from reports.models import Report

from .conftest import OCT_END, SEP

pytestmark = pytest.mark.django_db


def request(actor, **overrides):
    arguments = {"kind": Report.Kind.STATEMENT, "period_start": SEP, "period_end": OCT_END, **overrides}
    return services.report_request(actor=actor, **arguments)


def test_a_request_is_queued_audited_and_rendered_after_commit(cast, workspace, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as queued:
        report = request(cast.broker1, client_id=workspace.anna.pk)
    assert report.status == Report.Status.QUEUED and report.language == cast.broker1.language
    assert len(queued) == 1
    event = AuditEvent.objects.get(action="reports.requested", object_id=str(report.pk))
    assert event.changes == {
        "kind": "portfolio_statement",
        "client": "C1001",
        "broker": None,
        "period": ["2026-09-01", "2026-10-31"],
    }


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kind": "tax_return"}, "kind"),
        ({"period_start": OCT_END, "period_end": SEP}, "period_end"),
        ({"period_end": date(2099, 1, 1)}, "period_end"),
        ({"period_start": date(1999, 1, 1), "period_end": date(1999, 6, 1)}, "period_start"),
        ({"period_start": date(2024, 1, 1), "period_end": date(2025, 6, 30)}, "period_end"),
        ({"period_start": None}, "period_start"),
        ({"client_id": None}, "client"),
        ({"client_id": "abc"}, "client"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(cast, workspace, overrides, field):
    overrides.setdefault("client_id", workspace.anna.pk)
    with pytest.raises(ValidationError) as error:
        request(cast.broker1, **overrides)
    assert field in error.value.message_dict
    assert not Report.objects.exists()


def test_the_period_must_have_ended(cast, workspace):
    today = timezone.localdate()
    with pytest.raises(ValidationError):
        request(cast.broker1, client_id=workspace.anna.pk, period_start=today - timedelta(days=5), period_end=today)


@pytest.mark.parametrize("who", ["broker2", "broker3"])
def test_a_client_the_broker_may_not_see_is_refused(cast, workspace, who):
    with pytest.raises(ValidationError) as error:
        request(getattr(cast, who), client_id=workspace.anna.pk)
    assert "client" in error.value.message_dict
    assert not Report.objects.exists()


def test_a_broker_discloses_only_their_own_inducements(cast, workspace):
    own = request(cast.broker1, kind=Report.Kind.INDUCEMENTS)
    assert own.broker == cast.broker1 and own.client is None
    with pytest.raises(ValidationError):
        request(cast.broker1, kind=Report.Kind.INDUCEMENTS, broker_id=cast.broker2.pk)


def test_back_office_requests_for_any_firm(cast, workspace):
    assert request(cast.backoffice, client_id=workspace.dora.pk).client == workspace.dora
    assert request(cast.backoffice, kind=Report.Kind.INDUCEMENTS, broker_id=cast.broker3.pk).broker == cast.broker3
    with pytest.raises(ValidationError):
        request(cast.backoffice, kind=Report.Kind.INDUCEMENTS, broker_id=cast.client1.pk)


@pytest.mark.parametrize("who", ["client1", "partner", "outsider"])
def test_other_roles_cannot_request(cast, workspace, who):
    with pytest.raises(PermissionDenied):
        request(getattr(cast, who), client_id=workspace.anna.pk)


def test_the_same_pending_request_is_not_queued_twice_and_pending_ones_are_limited(cast, workspace):
    first = request(cast.broker1, client_id=workspace.anna.pk)
    assert request(cast.broker1, client_id=workspace.anna.pk) == first
    for n in range(services.MAX_PENDING - 1):
        request(cast.broker1, client_id=workspace.anna.pk, period_start=SEP + timedelta(days=n + 1))
    with pytest.raises(ValidationError):
        request(cast.broker1, client_id=workspace.bert.pk)
    assert Report.objects.count() == services.MAX_PENDING
