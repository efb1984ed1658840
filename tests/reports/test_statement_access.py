"""A client's statements as documents: who may download them (S1), what the client zone lists and
what "download my data" holds."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clients import zone
from portal.audit.models import AuditEvent
from reports import rendering, services
from reports.models import Report
from reports.zone import period_label

from .conftest import OCT_END, SEP

pytestmark = pytest.mark.django_db

# Anna (C1001) is client1's record and broker1's client; Alpha Invest's manager sees the firm's clients.
MAY_DOWNLOAD = {"client1", "broker1", "manager", "backoffice", "admin"}
EVERYONE = ["client1", "client2", "client3", "broker1", "broker2", "broker3", "manager", "backoffice", "admin"]
EVERYONE += ["partner", "outsider"]


@pytest.fixture
def statement(cast, workspace, media) -> Report:
    (report_id,) = services.statements_issue(
        kind=Report.Kind.STATEMENT, period_start=SEP, period_end=OCT_END, client_ids=[workspace.anna.pk]
    )
    return rendering.report_render(report_id)


def statements_source():
    return next(s for s in zone.document_sources() if s.key == "statements")


def url(report) -> str:
    return f"/reports/statements/{report.pk}/download/"


@pytest.mark.parametrize("who", EVERYONE)
def test_each_role_downloads_a_clients_statement_exactly_where_the_policy_lets_it(cast, login_as, statement, who):
    response = login_as(getattr(cast, who)).get(url(statement))
    if who in MAY_DOWNLOAD:
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf" and response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Disposition"].startswith("attachment;")
        assert b"".join(response.streaming_content).startswith(b"%PDF")
    else:
        assert response.status_code == 404


def test_an_anonymous_visitor_is_sent_to_the_login(client, statement):
    response = client.get(url(statement))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_only_the_clients_own_first_download_makes_it_no_longer_new(cast, workspace, login_as, statement):
    assert [d.is_new for d in statements_source().documents(workspace.anna)] == [True]
    login_as(cast.broker1).get(url(statement))
    login_as(cast.backoffice).get(url(statement))
    statement.refresh_from_db()
    assert statement.client_downloaded_at is None
    login_as(cast.client1).get(url(statement))
    login_as(cast.client1).get(url(statement))
    statement.refresh_from_db()
    assert statement.client_downloaded_at is not None
    assert AuditEvent.objects.filter(action="reports.statement_downloaded", actor=cast.client1).count() == 1
    assert [d.is_new for d in statements_source().documents(workspace.anna)] == [False]


def test_a_statement_not_ready_and_a_brokers_disclosure_are_no_client_documents(cast, workspace, login_as, rendered):
    (pending_id,) = services.statements_issue(
        kind=Report.Kind.COSTS, period_start=SEP, period_end=OCT_END, client_ids=[workspace.anna.pk]
    )
    assert login_as(cast.client1).get(f"/reports/statements/{pending_id}/download/").status_code == 404
    disclosure = rendered(cast.broker1, kind=Report.Kind.INDUCEMENTS)
    assert login_as(cast.broker1).get(url(disclosure)).status_code == 404
    assert login_as(cast.backoffice).get(url(disclosure)).status_code == 404


def test_the_zone_lists_the_clients_own_statements_newest_first_and_only_the_latest_of_a_period(
    cast, workspace, statement, rendered
):
    costs = rendered(cast.broker1, kind=Report.Kind.COSTS, client_id=workspace.anna.pk)
    again = rendered(cast.broker1, kind=Report.Kind.STATEMENT, client_id=workspace.anna.pk)  # a correction
    rendered(cast.broker3, kind=Report.Kind.STATEMENT, client_id=workspace.dora.pk)  # another client's
    source = statements_source()
    documents = list(source.documents(workspace.anna))
    assert sorted(d.url for d in documents) == sorted([url(costs), url(again)])
    label = period_label(SEP, OCT_END)  # not a quarter or a year: its first and last day
    assert {d.title for d in documents} == {f"Portfolio statement {label}", f"Costs and charges statement {label}"}
    assert {d.kind for d in documents} == {"Portfolio statement", "Costs and charges statement"}
    assert all(d.is_new for d in documents)


@pytest.mark.parametrize(
    ("start", "end", "label"),
    [
        ("2026-07-01", "2026-09-30", "Q3 2026"),
        ("2026-01-01", "2026-12-31", "2026"),
        ("2026-10-01", "2026-12-31", "Q4 2026"),
    ],
)
def test_quarters_and_years_are_named_as_such(start, end, label):
    from datetime import date

    assert period_label(date.fromisoformat(start), date.fromisoformat(end)) == label


def test_the_zone_list_costs_one_query_whatever_the_number_of_statements(cast, workspace, statement, rendered):
    source = statements_source()
    with CaptureQueriesContext(connection) as few:
        list(source.documents(workspace.anna))
    for _ in range(3):
        rendered(cast.broker1, kind=Report.Kind.COSTS, client_id=workspace.anna.pk)
    with CaptureQueriesContext(connection) as more:
        list(source.documents(workspace.anna))
    assert len(few) == len(more) == 1


def test_the_data_export_holds_the_pdfs_and_a_list_of_them(cast, workspace, statement):
    part = next(p for p in zone.export_parts() if p.key == "statements")
    listed, files = part.build(workspace.anna)
    name = "statements/portfolio_statement-C1001-20260901-20261031.pdf"
    assert listed == [
        {
            "title": listed[0]["title"],
            "kind": "portfolio_statement",
            "period_start": "2026-09-01",
            "period_end": "2026-10-31",
            "issued_at": statement.finished_at.isoformat(),
            "file": name,
            "sha256": statement.file_sha256,
            "inputs_hash": statement.inputs_hash,
        }
    ]
    assert [f.name for f in files] == [name] and files[0].content().startswith(b"%PDF")
    assert part.build(workspace.dora) == ([], [])
