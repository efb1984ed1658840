"""The reports page and /api/v1/reports/: request, progress, download; each user only their own."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports import services
from reports.models import Report
from tests.api_keys.conftest import auth, key_for

from .conftest import OCT_END, SEP

pytestmark = pytest.mark.django_db


def form(**overrides):
    return {
        "kind": "portfolio_statement",
        "client_q": "C1001",
        "period_start": "2026-09-01",
        "period_end": "2026-10-31",
        **overrides,
    }


def test_a_broker_requests_a_statement_on_the_page_and_sees_it_in_progress(cast, workspace, login_as, media):
    client = login_as(cast.broker1)
    response = client.post("/reports/request/", form(), follow=True)
    html = response.content.decode()
    assert "Client portfolio statement" in html and "requested" in html
    report = Report.objects.get(requested_by=cast.broker1)
    assert report.client == workspace.anna and report.status == Report.Status.QUEUED
    assert 'data-testid="report-progress"' in html and 'hx-trigger="every 2s"' in html


def test_the_polled_rows_stop_polling_once_everything_is_ready(cast, workspace, login_as, rendered):
    rendered(cast.broker1, client_id=workspace.anna.pk)
    partial = login_as(cast.broker1).get("/reports/", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and "Download PDF" in partial and "every 2s" not in partial


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (form(client_q="C2001"), "None of your clients matches “C2001”."),
        (form(client_q=""), "Choose one of your clients."),
        (form(period_start="2026-10-31", period_end="2026-09-01"), "The last day must not be before the first."),
        (form(period_end="someday"), "Enter a valid date."),
        (form(kind="everything"), "Select a valid choice."),
    ],
)
def test_bad_requests_are_shown_with_a_reason_and_queue_nothing(cast, workspace, login_as, data, message):
    response = login_as(cast.broker1).post("/reports/request/", data)
    assert response.status_code == 400 and message in response.content.decode()
    assert not Report.objects.exists()


def test_a_broker_cannot_name_someone_else_for_a_disclosure(cast, workspace, login_as):
    login_as(cast.broker1).post("/reports/request/", form(kind="inducements", broker="broker2@example.com"))
    assert Report.objects.get().broker == cast.broker1  # the field is not there for brokers


def test_back_office_requests_a_disclosure_for_any_broker(cast, workspace, login_as):
    client = login_as(cast.backoffice)
    client.post("/reports/request/", form(kind="inducements", broker="broker3@example.com", client_q=""))
    assert Report.objects.get().broker == cast.broker3
    response = client.post("/reports/request/", form(kind="inducements", broker="nobody@example.com", client_q=""))
    assert response.status_code == 400


def test_downloads_are_the_requesters_own(cast, workspace, login_as, rendered):
    report = rendered(cast.broker1, client_id=workspace.anna.pk)
    response = login_as(cast.broker1).get(f"/reports/{report.pk}/download/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    for who in ("broker2", "broker3", "manager"):
        assert login_as(getattr(cast, who)).get(f"/reports/{report.pk}/download/").status_code == 404
        assert login_as(getattr(cast, who)).get(f"/api/v1/reports/{report.pk}/").status_code == 404
    assert login_as(cast.backoffice).get(f"/reports/{report.pk}/download/").status_code == 200
    for who in ("client1", "outsider"):
        assert login_as(getattr(cast, who)).get(f"/reports/{report.pk}/download/").status_code == 403


def test_lists_show_only_ones_own_reports(cast, workspace, login_as, rendered):
    mine = rendered(cast.broker1, client_id=workspace.anna.pk)
    theirs = rendered(cast.broker2, client_id=workspace.carla.pk)
    ids = {r["id"] for r in login_as(cast.broker1).get("/api/v1/reports/").json()["results"]}
    assert ids == {mine.pk}
    html = login_as(cast.broker1).get("/reports/").content.decode()
    assert f'data-testid="report-{theirs.pk}"' not in html


def test_the_api_requests_follows_and_downloads_a_report(
    cast, workspace, client, media, django_capture_on_commit_callbacks
):
    cache.clear()
    _, secret = key_for(cast.broker1, {"reports": "write"})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/reports/",
            {
                "kind": "portfolio_statement",
                "client_id": workspace.anna.pk,
                "period_start": "2026-09-01",
                "period_end": "2026-10-31",
            },
            content_type="application/json",
            **auth(secret),
        )
    assert response.status_code == 202
    status = client.get(f"/api/v1/reports/{response.json()['id']}/", **auth(secret)).json()
    assert status["status"] == "ready" and status["progress"] == 100 and len(status["inputs_hash"]) == 64
    pdf = client.get(status["download_url"], **auth(secret))
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF")


def test_a_read_only_key_can_follow_but_not_request_reports(cast, workspace, client):
    cache.clear()
    _, secret = key_for(cast.broker1, {"reports": "read"})
    assert client.get("/api/v1/reports/", **auth(secret)).status_code == 200
    response = client.post("/api/v1/reports/", {"kind": "inducements"}, content_type="application/json", **auth(secret))
    assert response.status_code == 403 and not Report.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"kind": "portfolio_statement", "period_start": "2026-09-01", "period_end": "2026-10-31"},
        {"kind": "portfolio_statement", "client_id": 999999, "period_start": "2026-09-01", "period_end": "2026-10-31"},
        {"kind": "inducements", "period_start": "2026-10-31", "period_end": "2026-09-01"},
        {"kind": "inducements", "period_start": "x", "period_end": "2026-09-01"},
        {"kind": "inducements", "broker_id": 0, "period_start": "2026-09-01", "period_end": "2026-09-30"},
    ],
)
def test_bad_api_requests_are_400_in_the_common_format_and_queue_nothing(cast, workspace, login_as, body):
    response = login_as(cast.broker1).post("/api/v1/reports/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid" and response.json()["error"]["details"]
    assert not Report.objects.exists()


def test_the_csrf_check_stays_on_for_sessions_but_keys_need_none(cast, workspace, client, media):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    from tests.conftest import login

    login(csrf_client, cast.broker1)
    body = {"kind": "inducements", "period_start": "2026-09-01", "period_end": "2026-09-30"}
    assert csrf_client.post("/api/v1/reports/", body, content_type="application/json").status_code == 403
    cache.clear()
    _, secret = key_for(cast.broker1, {"reports": "write"})
    keyed = Client(enforce_csrf_checks=True)
    assert keyed.post("/api/v1/reports/", body, content_type="application/json", **auth(secret)).status_code == 202


@pytest.mark.parametrize("url", ["/reports/", "/api/v1/reports/"])
def test_the_list_runs_the_same_queries_for_few_and_many_reports(cast, workspace, login_as, url):
    client = login_as(cast.broker1)
    services.report_request(actor=cast.broker1, kind="inducements", period_start=SEP, period_end=OCT_END)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for n in range(8):
        Report.objects.create(
            requested_by=cast.broker1,
            kind="portfolio_statement",
            client=workspace.anna,
            period_start=SEP + timedelta(days=n),
            period_end=OCT_END,
            status="ready",
        )
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)


@pytest.mark.parametrize(
    ("body", "details"),
    [
        (
            {
                "kind": "portfolio_statement",
                "client_id": "dora",
                "period_start": "2026-09-01",
                "period_end": "2026-09-30",
            },
            {"client_id": ["Choose one of your clients."]},
        ),
        (
            {"kind": "inducements", "broker_id": "3", "period_start": "2026-09-01", "period_end": "2026-09-30"},
            {"broker_id": ["A valid integer is required."]},
        ),
    ],
)
def test_a_body_reference_that_is_not_yours_is_a_400_naming_the_field(cast, workspace, login_as, body, details):
    """A client or broker named in the body is a reference, not the address: 400 naming it, never 404."""
    if body.get("client_id") == "dora":
        body = {**body, "client_id": workspace.dora.pk}
    response = login_as(cast.broker1).post("/api/v1/reports/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["details"] == details
    assert not Report.objects.exists()


def test_another_brokers_disclosure_is_refused_under_broker_id(cast, workspace, login_as):
    body = {
        "kind": "inducements",
        "broker_id": cast.broker2.pk,
        "period_start": "2026-09-01",
        "period_end": "2026-09-30",
    }
    response = login_as(cast.broker1).post("/api/v1/reports/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"broker_id": ["Choose a broker whose commissions you may disclose."]}
