"""Back office in admin: dated rule rows, a used rule frozen, closing a month, four-eyes approval."""

import pytest
from django.urls import reverse

from commissions import services
from commissions.models import CommissionMonth, CommissionRule, Statement

from .conftest import SEPTEMBER

pytestmark = pytest.mark.django_db


def test_a_used_rule_can_no_longer_be_edited_or_deleted(cast, login_as, plans):
    services.month_accrue(period=SEPTEMBER)
    client = login_as(cast.backoffice)
    url = reverse("admin:commissions_commissionrule_change", args=[plans.rules.equity.pk])
    client.post(
        url,
        {"plan": plans.house.pk, "kind": "upfront", "asset_class": "equity", "rate": "0.5", "valid_from": "2026-01-01"},
    )
    plans.rules.equity.refresh_from_db()
    assert str(plans.rules.equity.rate) == "0.01000000"
    delete = reverse("admin:commissions_commissionrule_delete", args=[plans.rules.equity.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403


def test_a_rule_with_an_invalid_combination_is_refused_with_a_reason(cast, login_as, plans):
    client = login_as(cast.backoffice)
    response = client.post(
        reverse("admin:commissions_commissionrule_add"),
        {"plan": plans.house.pk, "kind": "fixed", "rate": "0.01", "valid_from": "2026-10-01"},
    )
    html = response.content.decode()
    assert "A fixed commission needs an amount." in html and "needs the event" in html
    assert CommissionRule.objects.count() == 5


def test_back_office_closes_a_month_and_a_second_person_approves(cast, login_as, plans, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    services.month_accrue(period=SEPTEMBER)
    admin_client = login_as(cast.admin)
    month = CommissionMonth.objects.get(period=SEPTEMBER)
    admin_client.post(
        reverse("admin:commissions_commissionmonth_changelist"),
        {"action": "close_months", "_selected_action": [month.pk]},
    )
    month.refresh_from_db()
    assert month.status == CommissionMonth.Status.CLOSED
    statement = Statement.objects.get(beneficiary=cast.broker1, period=SEPTEMBER)
    changelist = reverse("admin:commissions_statement_changelist")
    refused = admin_client.post(changelist, {"action": "approve", "_selected_action": [statement.pk]}, follow=True)
    assert "someone else must approve it" in refused.content.decode()
    statement.refresh_from_db()
    assert statement.status == Statement.Status.PREPARED
    login_as(cast.backoffice).post(changelist, {"action": "approve", "_selected_action": [statement.pk]})
    statement.refresh_from_db()
    assert statement.status == Statement.Status.APPROVED and statement.approved_by == cast.backoffice
    login_as(cast.admin).post(changelist, {"action": "mark_paid", "_selected_action": [statement.pk]})
    statement.refresh_from_db()
    assert statement.status == Statement.Status.PAID and statement.payment_reference.startswith("PZ-202609-")


def test_an_unfinished_month_cannot_be_closed_from_admin(cast, login_as, plans):
    services.month_accrue(period=SEPTEMBER)
    month = CommissionMonth.objects.create(period="2099-01-01")
    response = login_as(cast.admin).post(
        reverse("admin:commissions_commissionmonth_changelist"),
        {"action": "close_months", "_selected_action": [month.pk]},
        follow=True,
    )
    assert "only after it has ended" in response.content.decode()
    month.refresh_from_db()
    assert month.status == CommissionMonth.Status.OPEN
