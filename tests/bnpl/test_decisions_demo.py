"""The decision module's demo: default rules, a credit analyst, an over-limit order waiting in backoffice@'s inbox."""

import io

import pytest

from bnpl.decisions import PURCHASE_KIND
from bnpl.demo import decisions_demo_step, demo_step
from bnpl.models import CreditDecision, CreditRule, Order
from portal.accounts.roles import Role
from portal.approvals.models import Approval
from portal.audit.models import AuditEvent
from portal.inbox.selectors import inbox_items
from portal.shell.demo import cast_ensure

pytestmark = pytest.mark.django_db


def run():
    cast_ensure()
    demo_step(scale="small", stdout=io.StringIO())
    decisions_demo_step(scale="small", stdout=io.StringIO())


def test_the_demo_leaves_a_prepared_purchase_in_backoffices_inbox_once():
    run()
    counts = (CreditRule.objects.count(), Order.objects.count(), Approval.objects.count(), AuditEvent.objects.count())
    run()
    assert (
        CreditRule.objects.count(),
        Order.objects.count(),
        Approval.objects.count(),
        AuditEvent.objects.count(),
    ) == counts

    assert set(CreditRule.objects.values_list("fact", "operator", "value")) == {
        ("kyc_passed", "is_true", ""),
        ("within_purchase_limit", "is_true", ""),
        ("overdue_instalments", "le", "0"),
        ("open_plans", "le", "3"),
        ("age", "ge", "18"),
    }
    order = Order.objects.get(reference="DELTA-3001")
    assert order.state == Order.State.IN_REVIEW and order.shopper.user.email == "client2@example.com"
    decision = CreditDecision.objects.get(order=order)
    assert decision.over_limit and decision.prepared_by.email == "analyst@example.com"
    assert Role.CREDIT_ANALYST in decision.prepared_by.roles
    backoffice = cast_ensure()["backoffice"]
    approval = Approval.objects.get(kind=PURCHASE_KIND)
    assert approval.state == Approval.State.PENDING
    assert list(inbox_items(actor=backoffice, kind=PURCHASE_KIND).values_list("object_id", flat=True)) == [approval.pk]
