"""The demo steps of commissions, reports and API keys: they run on the demo cast, twice without harm."""

import io
from datetime import date
from decimal import Decimal

import pytest

from commissions.demo import demo_step as commissions_demo
from commissions.models import CommissionMonth, CommissionPlan, Statement
from intermediaries.models import Instrument
from portal.api.demo import DEMO_KEY_NAME
from portal.api.demo import demo_step as api_demo
from portal.api.models import ApiKey
from portal.approvals.models import Approval
from reports.demo import demo_step as reports_demo
from reports.models import Report

pytestmark = pytest.mark.django_db


def test_the_commissions_demo_closes_and_pays_past_months_and_can_run_twice(
    cast, workspace, tmp_path, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    # The demo works back from today; the workspace's bookings are in September and October 2026.
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *args, **kwargs: date(2026, 11, 23))
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        commissions_demo(scale="small", stdout=out)  # statement PDFs are rendered after each close commits
    commissions_demo(scale="small", stdout=out)
    assert CommissionPlan.objects.count() == 3
    september = Statement.objects.filter(period="2026-09-01")
    assert september.exists()
    # The newest closed month awaits the second pair of eyes (prepared by admin, to be approved by
    # back office), one of its statements rejected with a reason; the open months keep accruing.
    assert CommissionMonth.objects.filter(status="closed").count() == 5
    assert sorted(september.values_list("status", flat=True)) == ["prepared"] * (september.count() - 1) + ["rejected"]
    rejected = september.get(status="rejected")
    assert rejected.rejected_by == cast.backoffice and "override" in rejected.rejection_reason
    assert all(s.pdf for s in september)
    waiting = Approval.objects.filter(kind="commissions.statement", state="pending")
    assert waiting.count() == september.count() - 1 and {a.maker for a in waiting} == {cast.admin}
    assert Approval.objects.filter(kind="commissions.statement", state="rejected").count() == 1
    # Approved and paid months (none in this small book: its bookings start in September) have one
    # approval each, granted by back office.
    approved = Approval.objects.filter(kind="commissions.statement", state="approved")
    assert approved.count() == Statement.objects.filter(status__in=["approved", "paid"]).count()
    assert {d.actor for a in approved for d in a.decisions.all()} <= {cast.backoffice}
    assert cast.manager.has_perm("commissions.view_firm_commissions")


def test_the_reports_and_api_key_demos_run_once(cast, workspace, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    out = io.StringIO()
    reports_demo(scale="small", stdout=out)
    issued = Report.objects.filter(requested_by__isnull=True)
    count = issued.count()
    reports_demo(scale="small", stdout=out)
    assert Report.objects.filter(requested_by=cast.broker1).count() == 1
    # The demo clients with a login (client1 is Anna, client3 is Dora) have their statements, ready.
    assert issued.count() == count and {r.client.user for r in issued} == {cast.client1, cast.client3}
    assert {r.status for r in issued} == {Report.Status.READY}
    # The core feed carries no ongoing charges: the demo gives the ETFs and funds typical ones.
    assert Instrument.objects.get(pk=workspace.market.fund.pk).ongoing_charges == Decimal("0.20")
    api_demo(scale="small", stdout=out)
    api_demo(scale="small", stdout=out)
    key = ApiKey.objects.get(owner=cast.broker1, name=DEMO_KEY_NAME)
    assert key.scopes["clients"] == "read" and key.scopes["reports"] == "write"
    assert "pzk_" in out.getvalue() and "exists" in out.getvalue()
