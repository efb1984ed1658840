"""The decision module in admin: rules and their combination edited through the rule builder's
services (checked, audited, back office only); decisions and their traces read only."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from bnpl.decision_rules import credit_rule_create
from bnpl.decisions import decide_order
from bnpl.models import CreditDecision, CreditRule, CreditRuleSet, Order
from portal.accounts.roles import Role
from portal.audit.models import AuditEvent
from tests.factories import UserFactory

from .factories import OrderFactory, ShopperFactory, merchant_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def analyst(db):
    return UserFactory(email="analyst@example.com", is_staff=True, roles=[Role.CREDIT_ANALYST])


@pytest.fixture
def decision(cast):
    shop = merchant_for(cast.merchant.organisation, actor=cast.admin)
    shopper = ShopperFactory(
        user=cast.client2,
        region="DE-BE",
        date_of_birth=date(1990, 1, 1),
        purchase_limit=Decimal("1000.00"),
        purchase_limit_currency="EUR",
        kyc_passed=True,
        kyc_passed_at=timezone.now(),
    )
    credit_rule_create(actor=cast.backoffice, name="Adults only", fact="age", operator="ge", value="18")
    order = OrderFactory(merchant=shop, shopper=shopper, amount=Decimal("250.00"), state=Order.State.PENDING_DECISION)
    return decide_order(order_id=order.pk)


def url(name, *args):
    return reverse(f"admin:bnpl_{name}", args=args)


def rule_form(**changes):
    return {
        "name": "KYC done",
        "fact": "kyc_passed",
        "operator": "is_true",
        "value": "",
        "position": "5",
        "active": "on",
    } | changes


def test_back_office_adds_a_rule_in_admin_through_the_service_and_it_is_audited(cast, login_as):
    response = login_as(cast.backoffice).post(url("creditrule_add"), rule_form())

    assert response.status_code == 302
    rule = CreditRule.objects.get(name="KYC done")
    assert (rule.fact, rule.operator, rule.value, rule.position, rule.active) == ("kyc_passed", "is_true", "", 5, True)
    assert AuditEvent.objects.filter(action="bnpl.credit_rule_created", actor=cast.backoffice).count() == 1


def test_a_rule_whose_value_does_not_fit_its_fact_is_refused_with_the_services_error(cast, login_as):
    response = login_as(cast.backoffice).post(url("creditrule_add"), rule_form(fact="age", operator="ge", value="old"))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not CreditRule.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="bnpl.credit_rule").exists()


def test_back_office_switches_a_rule_off_in_admin_and_the_change_is_audited(cast, login_as, decision):
    rule = CreditRule.objects.get()
    response = login_as(cast.backoffice).post(
        url("creditrule_change", rule.pk),
        rule_form(name=rule.name, fact="age", operator="ge", value="18", position="10", active=""),
    )

    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.active is False
    assert AuditEvent.objects.filter(action="bnpl.credit_rule_deactivated", actor=cast.backoffice).exists()


def test_rules_are_never_deleted_in_admin(cast, login_as, decision):
    rule = CreditRule.objects.get()

    assert login_as(cast.admin).post(url("creditrule_delete", rule.pk), {"post": "yes"}).status_code == 403
    assert CreditRule.objects.filter(pk=rule.pk).exists()


def test_back_office_changes_how_the_rules_combine_through_the_service(cast, login_as):
    rule_set = CreditRuleSet.current()

    response = login_as(cast.backoffice).post(url("creditruleset_change", rule_set.pk), {"combine": "any"})

    assert response.status_code == 302
    assert CreditRuleSet.current().combine == "any"
    assert AuditEvent.objects.filter(action="bnpl.credit_rules_combine_changed").count() == 1
    assert login_as(cast.backoffice).get(url("creditruleset_add")).status_code == 403


def test_a_credit_analyst_reads_rules_and_decisions_but_changes_nothing(analyst, login_as, decision):
    rule = CreditRule.objects.get()
    client = login_as(analyst)

    assert client.get(url("creditrule_changelist")).status_code == 200
    assert client.get(url("creditdecision_changelist")).status_code == 200
    assert client.get(url("creditrule_add")).status_code == 403
    refused = client.post(url("creditrule_change", rule.pk), rule_form(name="Renamed", fact="age", value="21"))
    assert refused.status_code == 403
    assert CreditRule.objects.get().name == "Adults only"
    assert client.post(url("creditruleset_change", 1), {"combine": "any"}).status_code == 403
    assert CreditRuleSet.current().combine == "all"


def test_a_decision_and_its_trace_are_shown_and_never_changed_or_deleted(cast, login_as, decision):
    client = login_as(cast.admin)

    page = client.get(url("creditdecision_change", decision.pk))
    changed = client.post(url("creditdecision_change", decision.pk), {"outcome": "declined"})
    deleted = client.post(url("creditdecision_delete", decision.pk), {"post": "yes"})

    assert page.status_code == 200
    assert "Adults only" in page.text and "age ge 18" in page.text
    assert changed.status_code == 403 and deleted.status_code == 403
    assert client.get(url("creditdecision_add")).status_code == 403
    assert CreditDecision.objects.get(pk=decision.pk).outcome == decision.outcome


@pytest.mark.parametrize("user", ["merchant", "client2", "outsider"])
def test_nobody_outside_bnpl_staff_reaches_the_decision_admin(cast, login_as, decision, user):
    client = login_as(getattr(cast, user))

    for name in ("creditrule_changelist", "creditdecision_changelist"):
        assert client.get(url(name)).status_code == 302  # not staff: admin sends them to its login
    assert client.get(url("creditdecision_change", decision.pk)).status_code == 302
