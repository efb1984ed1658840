"""The report policy, role by role, through every door: list page, download, API list, detail and PDF, admin."""

import pytest

from reports.models import Report
from tests.conftest import otp_device_for

pytestmark = pytest.mark.django_db

EVERYONE = [
    "admin",
    "backoffice",
    "manager",
    "broker1",
    "broker2",
    "broker3",
    "client1",
    "client3",
    "partner",
    "merchant",
    "outsider",
]
# Whose report: broker1 requested it. Who else sees it: back office (admin is back office too).
SEES_IT = {"broker1", "backoffice", "admin"}
# The report pages and API are for brokers, managers, back office and compliance; others get 403.
MAY_USE_REPORTS = {"admin", "backoffice", "manager", "broker1", "broker2", "broker3"}


@pytest.fixture
def report(cast, workspace, rendered):
    return rendered(cast.broker1, client_id=workspace.anna.pk)


def _expected(who: str, *, seen: int) -> int:
    if who not in MAY_USE_REPORTS:
        return 403
    return seen if who in SEES_IT else 404


@pytest.mark.parametrize("who", EVERYONE)
def test_each_role_reaches_the_report_exactly_where_the_policy_lets_it(cast, login_as, report, who):
    client = login_as(getattr(cast, who))

    page = client.get("/reports/")
    assert page.status_code == (200 if who in MAY_USE_REPORTS else 403)
    if page.status_code == 200:
        assert (f'data-testid="report-{report.pk}"' in page.content.decode()) == (who in SEES_IT)
    assert client.get(f"/reports/{report.pk}/download/").status_code == _expected(who, seen=200)

    listed = client.get("/api/v1/reports/")
    assert listed.status_code == (200 if who in MAY_USE_REPORTS else 403)
    if listed.status_code == 200:
        assert ({r["id"] for r in listed.json()["results"]} == {report.pk}) == (who in SEES_IT)
    assert client.get(f"/api/v1/reports/{report.pk}/").status_code == _expected(who, seen=200)
    assert client.get(f"/api/v1/reports/{report.pk}/download/").status_code == _expected(who, seen=200)


@pytest.mark.parametrize("who", ["backoffice", "broker1"])
def test_admin_lists_reports_through_the_same_policy(cast, login_as, report, who):
    user = getattr(cast, who)
    otp_device_for(user)
    response = login_as(user).get("/admin/reports/report/")
    if who == "backoffice":
        assert response.status_code == 200 and f"/admin/reports/report/{report.pk}/" in response.content.decode()
    else:  # not staff: admin is no door at all
        assert response.status_code == 302


def test_a_refused_request_changes_nothing(cast, login_as, workspace):
    before = Report.objects.count()
    response = login_as(cast.client1).post(
        "/reports/request/",
        {"kind": "statement", "client": workspace.anna.pk, "period_start": "2026-09-01", "period_end": "2026-10-31"},
    )
    assert response.status_code == 403
    assert Report.objects.count() == before
