import pytest
from django.conf import settings
from django.db import OperationalError
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


def test_a_transient_error_that_persists_ends_failed_with_the_reason_after_the_last_retry(
    cast, workspace, media, monkeypatch
):
    report = queued(cast, workspace)
    calls = []

    def broken(report):
        calls.append(report.pk)
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(documents, "document_build", broken)
    result = tasks.report_render.apply(args=[report.pk])
    report.refresh_from_db()
    assert result.failed()
    assert report.status == Report.Status.FAILED and "server closed the connection" in report.error
    assert len(calls) == tasks.report_render.max_retries + 1 == settings.REPORTS_RENDER_MAX_ATTEMPTS
    assert report.attempts == len(calls)
    assert not report.file


def test_a_passing_database_glitch_is_retried_and_the_report_is_made(cast, workspace, media, monkeypatch):
    report = queued(cast, workspace)
    real = documents.document_build
    calls = []

    def flaky(report):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("could not serialize access due to concurrent update")
        return real(report)

    monkeypatch.setattr(documents, "document_build", flaky)
    result = tasks.report_render.apply(args=[report.pk])
    report.refresh_from_db()
    # The failed attempt gave its claim back, so the retry took the report at once.
    assert result.successful() and result.result == Report.Status.READY
    assert report.status == Report.Status.READY and len(calls) == 2 and report.attempts == 2


def test_a_permanent_error_is_not_retried_and_fails_the_report_at_once(cast, workspace, media, monkeypatch):
    report = queued(cast, workspace)
    calls = []

    def wrong(report):
        calls.append(1)
        raise ValueError("no exchange rate for XAU on 2026-10-31")

    monkeypatch.setattr(documents, "document_build", wrong)
    result = tasks.report_render.apply(args=[report.pk])
    report.refresh_from_db()
    assert result.failed() and len(calls) == 1
    assert report.status == Report.Status.FAILED
    assert report.error == "ValueError: no exchange rate for XAU on 2026-10-31"
    assert report.attempts == 1 and not report.file


def test_a_render_of_a_report_already_done_is_a_no_op(cast, workspace, media):
    report = queued(cast, workspace)
    assert tasks.report_render.apply(args=[report.pk]).result == Report.Status.READY
    assert tasks.report_render.apply(args=[report.pk]).result == "taken"
    report.refresh_from_db()
    assert report.attempts == 1
    assert len(list((media / "reports").rglob("*.pdf"))) == 1


def test_back_office_reads_report_requests_in_admin_but_cannot_change_them(cast, workspace, login_as):
    backoffice_permissions_grant()
    report = queued(cast, workspace)
    client = login_as(cast.backoffice)
    assert "C1001" in client.get(reverse("admin:reports_report_changelist")).content.decode()
    assert client.get(reverse("admin:reports_report_add")).status_code == 403
    assert client.post(reverse("admin:reports_report_delete", args=[report.pk]), {"post": "yes"}).status_code == 403
    assert Report.objects.filter(pk=report.pk).exists()
