import pytest
from django.urls import reverse

from reports import documents, services, tasks
from reports.models import Report
from reports.roles import backoffice_permissions_grant

from .conftest import OCT_END, SEP

pytestmark = pytest.mark.django_db


def queued(cast, workspace) -> Report:
    return services.report_request(
        actor=cast.broker1,
        kind=Report.Kind.STATEMENT,
        client_id=workspace.anna.pk,
        period_start=SEP,
        period_end=OCT_END,
    )


def test_a_render_that_keeps_failing_ends_failed_with_the_reason(cast, workspace, media, monkeypatch):
    report = queued(cast, workspace)
    calls = []

    def broken(report):
        calls.append(report.pk)
        raise RuntimeError("database went away")

    monkeypatch.setattr(documents, "document_build", broken)
    tasks.report_render.apply(args=[report.pk])
    report.refresh_from_db()
    assert report.status == Report.Status.FAILED and "database went away" in report.error
    assert len(calls) == tasks.report_render.max_retries + 1
    assert not report.file


def test_a_passing_glitch_is_retried_and_the_report_is_made(cast, workspace, media, monkeypatch):
    report = queued(cast, workspace)
    real = documents.document_build
    calls = []

    def flaky(report):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("glitch")
        return real(report)

    monkeypatch.setattr(documents, "document_build", flaky)
    tasks.report_render.apply(args=[report.pk])
    report.refresh_from_db()
    assert report.status == Report.Status.READY and len(calls) == 2


def test_back_office_reads_report_requests_in_admin_but_cannot_change_them(cast, workspace, login_as):
    backoffice_permissions_grant()
    report = queued(cast, workspace)
    client = login_as(cast.backoffice)
    assert "C1001" in client.get(reverse("admin:reports_report_changelist")).content.decode()
    assert client.get(reverse("admin:reports_report_add")).status_code == 403
    assert client.post(reverse("admin:reports_report_delete", args=[report.pk]), {"post": "yes"}).status_code == 403
    assert Report.objects.filter(pk=report.pk).exists()
