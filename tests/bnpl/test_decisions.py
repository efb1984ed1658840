"""The credit decision module: facts, operators, traces, auto approval, manual review by two people."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from bnpl.decision_rules import credit_rule_create, credit_rule_set_combine, credit_rule_update
from bnpl.decisions import FACTS, PURCHASE_KIND, REVIEW_KIND, decide_order, purchase_review_prepare, rule_value_parse
from bnpl.models import CreditDecision, CreditRule, Instalment, Order, Plan
from portal.accounts.roles import Role
from portal.approvals.models import Approval
from portal.approvals.selectors import approval_pending_for
from portal.approvals.services import approval_approve, approval_reject
from portal.audit.models import AuditEvent
from portal.inbox.models import WorkItem
from portal.inbox.selectors import inbox_items
from tests.factories import UserFactory

from .factories import OrderFactory, ShopperFactory, merchant_for, order_with_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(cast):
    return merchant_for(cast.merchant.organisation, actor=cast.admin)


@pytest.fixture
def shopper(cast):
    return ShopperFactory(
        user=cast.client2,
        region="DE-BE",
        date_of_birth=date(1990, 1, 1),
        purchase_limit=Decimal("1000.00"),
        purchase_limit_currency="EUR",
        kyc_passed=True,
        kyc_passed_at=timezone.now(),
    )


@pytest.fixture
def analyst(db):
    return UserFactory(email="analyst@example.com", is_staff=True, roles=[Role.CREDIT_ANALYST])


def pending(shop, shopper, amount="250.00", **fields):
    return OrderFactory(
        merchant=shop, shopper=shopper, amount=Decimal(amount), state=Order.State.PENDING_DECISION, **fields
    )


def rule(actor, fact, operator, value="", name=None):
    return credit_rule_create(
        actor=actor, name=name or f"{fact} {operator} {value}", fact=fact, operator=operator, value=value
    )


def seen(order, fact):
    return FACTS[fact].compute(order)


# --- Facts ---------------------------------------------------------------------------------------


def test_each_fact_reads_the_order_and_its_shopper(cast, shop, shopper):
    order = pending(shop, shopper, amount="250.00")
    assert seen(order, "kyc_passed") is True
    assert seen(order, "within_purchase_limit") is True
    assert seen(order, "region") == "DE-BE"
    assert seen(order, "order_amount") == Decimal("250.00")
    today = timezone.localdate()
    shopper.date_of_birth = date(today.year - 30, today.month, today.day) + timedelta(days=1)
    assert seen(order, "age") == 29  # the birthday is tomorrow
    shopper.date_of_birth = None
    assert seen(order, "age") is None


def test_the_limit_fact_needs_the_same_currency_and_an_amount_within(cast, shop, shopper):
    assert seen(pending(shop, shopper, amount="1000.00"), "within_purchase_limit") is True
    assert seen(pending(shop, shopper, amount="1000.01"), "within_purchase_limit") is False
    assert seen(pending(shop, shopper, amount="10.00", currency="CHF"), "within_purchase_limit") is False


def test_open_plans_and_overdue_instalments_count_the_shoppers_other_orders(cast, shop, shopper, shoppers_other):
    first = order_with_plan(merchant=shop, shopper=shopper, reference="P-1")
    order_with_plan(merchant=shop, shopper=shopper, reference="P-2")
    done = order_with_plan(merchant=shop, shopper=shopper, reference="P-3")
    Plan.objects.filter(order=done).update(state=Plan.State.COMPLETED, start_date=date(2026, 1, 1))
    order_with_plan(merchant=shop, shopper=shoppers_other, reference="X-1")
    Instalment.objects.filter(plan__order=first, number__in=[1, 2]).update(state=Instalment.State.OVERDUE)
    order = pending(shop, shopper)
    assert seen(order, "open_plans") == 2
    assert seen(order, "overdue_instalments") == 2
    assert seen(first, "open_plans") == 1  # its own plan does not count against it


@pytest.fixture
def shoppers_other(cast):
    return ShopperFactory(user=cast.client3)


# --- Operators -----------------------------------------------------------------------------------

OPERATOR_CASES = [
    ("overdue_instalments", "eq", "0", True),
    ("overdue_instalments", "ne", "0", False),
    ("order_amount", "lt", "250.00", False),
    ("order_amount", "le", "250.00", True),
    ("order_amount", "gt", "249.99", True),
    ("age", "ge", "37", False),
    ("age", "ge", "18", True),
    ("region", "in", "DE-BE, DE-BY", True),
    ("region", "not_in", "DE-BE,AT", False),
    ("open_plans", "in", "1,2,3", False),
    ("kyc_passed", "is_true", "", True),
    ("kyc_passed", "is_false", "", False),
]


@pytest.mark.parametrize(("fact", "operator", "value", "passes"), OPERATOR_CASES)
def test_each_operator_compares_the_seen_value(cast, shop, shopper, fact, operator, value, passes):
    shopper.date_of_birth = date(timezone.localdate().year - 36, 1, 1)  # 36 years old
    shopper.save()
    rule(cast.backoffice, fact, operator, value)
    order = pending(shop, shopper, amount="250.00")
    decision = decide_order(order_id=order.pk)
    assert decision.trace[0]["passed"] is passes
    assert decision.outcome == ("approved" if passes else "review")


def test_an_unknown_age_fails_every_comparison(cast, shop, shopper):
    shopper.date_of_birth = None
    shopper.save()
    rule(cast.backoffice, "age", "ge", "18")
    decision = decide_order(order_id=pending(shop, shopper).pk)
    assert decision.trace[0] | {"rule_id": None} == {
        "rule": "age ge 18",
        "rule_id": None,
        "fact": "age",
        "operator": "ge",
        "expected": "18",
        "seen": None,
        "passed": False,
    }


@pytest.mark.parametrize(
    ("fact", "operator", "value", "field"),
    [
        ("salary", "eq", "1", "fact"),
        ("age", "between", "1", "operator"),
        ("age", "ge", "eighteen", "value"),
        ("age", "ge", "", "value"),
        ("order_amount", "le", "12,5x", "value"),
        ("order_amount", "in", "1,2", "operator"),
        ("kyc_passed", "eq", "true", "operator"),
        ("region", "lt", "DE", "operator"),
        ("region", "in", " , ", "value"),
        ("order_amount", "ge", "NaN", "value"),
    ],
)
def test_a_value_must_parse_for_the_facts_type(fact, operator, value, field):
    with pytest.raises(ValidationError) as caught:
        rule_value_parse(fact=fact, operator=operator, value=value)
    assert field in caught.value.message_dict


def test_values_parse_to_the_facts_type():
    assert rule_value_parse(fact="order_amount", operator="le", value=" 250.5 ") == Decimal("250.5")
    assert rule_value_parse(fact="open_plans", operator="in", value="1, 2") == [1, 2]
    assert rule_value_parse(fact="kyc_passed", operator="is_true", value="") is None


# --- Deciding ------------------------------------------------------------------------------------


def test_all_rules_passing_approve_the_order_at_once_with_the_trace_of_each(cast, shop, shopper):
    rule(cast.backoffice, "kyc_passed", "is_true")
    rule(cast.backoffice, "order_amount", "le", "500.00")
    order = pending(shop, shopper, amount="250.00")

    decision = decide_order(order_id=order.pk)

    order.refresh_from_db()
    assert order.state == Order.State.APPROVED
    assert decision.outcome == CreditDecision.Outcome.APPROVED and not decision.over_limit
    assert [(e["fact"], e["operator"], e["expected"], e["seen"], e["passed"]) for e in decision.trace] == [
        ("kyc_passed", "is_true", "", True, True),
        ("order_amount", "le", "500.00", "250.00", True),
    ]
    assert decision.rule_set["combine"] == "all" and len(decision.rule_set["rules"]) == 2
    assert not WorkItem.objects.filter(kind=REVIEW_KIND).exists()
    assert AuditEvent.objects.filter(action="bnpl.order_decided").count() == 1


def test_a_failing_rule_sends_the_order_to_review_and_the_analysts_inbox(cast, shop, shopper, analyst):
    rule(cast.backoffice, "kyc_passed", "is_true")
    rule(cast.backoffice, "region", "in", "AT")
    order = pending(shop, shopper)

    decision = decide_order(order_id=order.pk)

    order.refresh_from_db()
    assert order.state == Order.State.IN_REVIEW and decision.outcome == "review"
    assert [e["passed"] for e in decision.trace] == [True, False]
    assert decision.trace[1]["seen"] == "DE-BE"
    assert list(inbox_items(actor=analyst, kind=REVIEW_KIND).values_list("object_id", flat=True)) == [order.pk]
    assert not inbox_items(actor=cast.merchant).exists()


def test_any_combination_approves_when_one_rule_passes(cast, shop, shopper):
    rule(cast.backoffice, "kyc_passed", "is_false")
    rule(cast.backoffice, "age", "ge", "18")
    credit_rule_set_combine(actor=cast.backoffice, combine="any")
    assert decide_order(order_id=pending(shop, shopper).pk).outcome == "approved"


def test_an_inactive_rule_is_not_checked(cast, shop, shopper):
    failing = rule(cast.backoffice, "kyc_passed", "is_false")
    credit_rule_update(actor=cast.backoffice, rule_id=failing.pk, active=False)
    assert decide_order(order_id=pending(shop, shopper).pk).trace == []


def test_an_order_over_the_limit_goes_to_review_even_with_no_rules(cast, shop, shopper):
    order = pending(shop, shopper, amount="1500.00")
    decision = decide_order(order_id=order.pk)
    order.refresh_from_db()
    assert order.state == Order.State.IN_REVIEW and decision.over_limit
    assert decision.trace[-1]["fact"] == "within_purchase_limit" and decision.trace[-1]["passed"] is False


def test_an_order_over_the_limit_goes_to_review_even_when_any_rule_would_do(cast, shop, shopper):
    rule(cast.backoffice, "kyc_passed", "is_true")
    credit_rule_set_combine(actor=cast.backoffice, combine="any")
    assert decide_order(order_id=pending(shop, shopper, amount="1000.01").pk).outcome == "review"


def test_an_order_is_decided_once(cast, shop, shopper):
    order = pending(shop, shopper)
    decide_order(order_id=order.pk)
    with pytest.raises(ValidationError):
        decide_order(order_id=order.pk)
    assert CreditDecision.objects.filter(order=order).count() == 1


@pytest.mark.parametrize("rules", [2, 8])
def test_deciding_costs_a_bounded_number_of_queries(cast, shop, shopper, django_assert_max_num_queries, rules):
    facts = ["kyc_passed", "within_purchase_limit", "overdue_instalments", "open_plans", "age", "region"]
    for n in range(rules):
        fact = facts[n % len(facts)]
        operator = (
            "is_true" if fact in ("kyc_passed", "within_purchase_limit") else ("ne" if fact == "region" else "ge")
        )
        rule(cast.backoffice, fact, operator, "" if operator == "is_true" else ("AT" if fact == "region" else "0"))
    order = pending(shop, shopper)
    with django_assert_max_num_queries(14):
        decide_order(order_id=order.pk)


# --- Manual review: two people -------------------------------------------------------------------


@pytest.fixture
def in_review(cast, shop, shopper):
    order = pending(shop, shopper, amount="1800.00")
    decide_order(order_id=order.pk)
    return order


def test_the_reviewer_prepares_and_the_approval_waits_in_backoffices_inbox(cast, in_review, analyst):
    purchase_review_prepare(actor=analyst, order_id=in_review.pk, recommendation="approve", note="Steady payer")

    approval = approval_pending_for(kind=PURCHASE_KIND, obj=in_review)
    assert approval.maker == analyst and approval.amount == Decimal("1800.00") and approval.currency == "EUR"
    assert list(inbox_items(actor=cast.backoffice, kind=PURCHASE_KIND).values_list("object_id", flat=True)) == [
        approval.pk
    ]
    assert not inbox_items(actor=analyst, kind=REVIEW_KIND).exists()  # the review item is closed
    decision = CreditDecision.objects.get(order=in_review)
    assert (decision.prepared_by, decision.recommendation) == (analyst, "approve")
    assert AuditEvent.objects.filter(action="bnpl.purchase_review_prepared").exists()


def test_only_a_credit_analyst_prepares_and_only_once(cast, in_review, analyst):
    with pytest.raises(PermissionDenied):
        purchase_review_prepare(actor=cast.backoffice, order_id=in_review.pk, recommendation="approve")
    with pytest.raises(ValidationError):
        purchase_review_prepare(actor=analyst, order_id=in_review.pk, recommendation="decline", note="")
    with pytest.raises(ValidationError):
        purchase_review_prepare(actor=analyst, order_id=in_review.pk, recommendation="maybe")
    assert not Approval.objects.exists()
    purchase_review_prepare(actor=analyst, order_id=in_review.pk, recommendation="approve")
    with pytest.raises(ValidationError):
        purchase_review_prepare(actor=analyst, order_id=in_review.pk, recommendation="approve")
    assert Approval.objects.count() == 1


def test_the_preparer_cannot_approve_their_own_case(cast, in_review):
    both = UserFactory(email="both@example.com", is_staff=True, roles=[Role.CREDIT_ANALYST, Role.BACKOFFICE])
    purchase_review_prepare(actor=both, order_id=in_review.pk, recommendation="approve")
    approval = approval_pending_for(kind=PURCHASE_KIND, obj=in_review)
    with pytest.raises(ValidationError) as caught:
        approval_approve(actor=both, approval_id=approval.pk, second_factor_verified=True)
    assert caught.value.code == "four_eyes"
    in_review.refresh_from_db()
    assert in_review.state == Order.State.IN_REVIEW


def test_back_office_approves_and_the_order_is_approved(cast, in_review, analyst, django_capture_on_commit_callbacks):
    from bnpl.decisions import order_credit_decided

    told = []
    order_credit_decided.connect(lambda **kw: told.append(kw), weak=False, dispatch_uid="test.told")
    try:
        purchase_review_prepare(actor=analyst, order_id=in_review.pk, recommendation="approve")
        approval = approval_pending_for(kind=PURCHASE_KIND, obj=in_review)
        with django_capture_on_commit_callbacks(execute=True):
            approval_approve(actor=cast.backoffice, approval_id=approval.pk, second_factor_verified=True)
    finally:
        order_credit_decided.disconnect(dispatch_uid="test.told")
    in_review.refresh_from_db()
    assert in_review.state == Order.State.APPROVED
    assert CreditDecision.objects.get(order=in_review).outcome == "approved"
    assert AuditEvent.objects.filter(action="bnpl.purchase_approved", actor=cast.backoffice).exists()
    assert [(t["order_id"], t["outcome"], t["manual"]) for t in told] == [(in_review.pk, "approved", True)]


def test_back_office_rejects_with_a_reason_and_the_order_is_declined(cast, in_review, analyst):
    purchase_review_prepare(actor=analyst, order_id=in_review.pk, recommendation="decline", note="Too high")
    approval = approval_pending_for(kind=PURCHASE_KIND, obj=in_review)
    with pytest.raises(ValidationError):
        approval_reject(actor=cast.backoffice, approval_id=approval.pk, reason="", second_factor_verified=True)
    approval_reject(
        actor=cast.backoffice, approval_id=approval.pk, reason="Income not proven", second_factor_verified=True
    )
    in_review.refresh_from_db()
    approval.refresh_from_db()
    assert in_review.state == Order.State.DECLINED
    assert approval.state == Approval.State.REJECTED and approval.rejection_reason == "Income not proven"
    event = AuditEvent.objects.get(action="bnpl.purchase_declined")
    assert event.changes["reason"] == "Income not proven"


def test_an_order_no_longer_in_review_undoes_the_decision(cast, in_review, analyst):
    purchase_review_prepare(actor=analyst, order_id=in_review.pk, recommendation="approve")
    approval = approval_pending_for(kind=PURCHASE_KIND, obj=in_review)
    Order.objects.filter(pk=in_review.pk).update(state=Order.State.CANCELLED)
    with pytest.raises(ValidationError):
        approval_approve(actor=cast.backoffice, approval_id=approval.pk, second_factor_verified=True)
    approval.refresh_from_db()
    assert approval.state == Approval.State.PENDING


def test_a_rule_change_is_audited_and_bad_input_changes_nothing(cast):
    kept = rule(cast.backoffice, "age", "ge", "18")
    with pytest.raises(ValidationError):
        credit_rule_update(actor=cast.backoffice, rule_id=kept.pk, value="adult")
    with pytest.raises(PermissionDenied):
        credit_rule_create(actor=cast.merchant, name="x", fact="age", operator="ge", value="1")
    kept.refresh_from_db()
    assert kept.value == "18" and CreditRule.objects.count() == 1
    credit_rule_update(actor=cast.backoffice, rule_id=kept.pk, value="21")
    assert AuditEvent.objects.get(action="bnpl.credit_rule_changed").changes == {"value": ["18", "21"]}


# --- Pages ---------------------------------------------------------------------------------------

from django.urls import reverse  # noqa: E402  (kept with its section)


def test_back_office_adds_a_rule_on_the_page(cast, login_as):
    client = login_as(cast.backoffice)
    page = client.get(reverse("bnpl:credit-rules"))
    assert page.status_code == 200
    response = client.post(
        reverse("bnpl:credit-rules"),
        {"name": "Of age", "fact": "age", "operator": "ge", "value": "18", "position": "10"},
    )
    assert response.status_code == 302
    assert CreditRule.objects.get().value == "18"
    assert AuditEvent.objects.filter(action="bnpl.credit_rule_created", actor=cast.backoffice).exists()


@pytest.mark.parametrize(
    ("fact", "operator", "value", "error"),
    [
        ("age", "ge", "adult", "value"),
        ("salary", "ge", "1", "fact"),
        ("age", "between", "1", "operator"),
        ("kyc_passed", "lt", "1", "operator"),
    ],
)
def test_the_rule_form_refuses_bad_input_and_changes_nothing(cast, login_as, fact, operator, value, error):
    client = login_as(cast.backoffice)
    before = AuditEvent.objects.count()
    response = client.post(
        reverse("bnpl:credit-rules"),
        {"name": "Bad", "fact": fact, "operator": operator, "value": value, "position": "1"},
    )
    assert response.status_code == 400
    assert f'data-testid="error-{error}"' in response.content.decode()
    assert not CreditRule.objects.exists() and AuditEvent.objects.count() == before


def test_editing_switching_off_and_combining_on_the_page(cast, login_as):
    kept = rule(cast.backoffice, "age", "ge", "18")
    client = login_as(cast.backoffice)
    bad = client.post(
        reverse("bnpl:credit-rule-edit", args=[kept.pk]),
        {"name": "Of age", "fact": "age", "operator": "ge", "value": "x", "position": "10"},
    )
    assert bad.status_code == 400
    kept.refresh_from_db()
    assert kept.value == "18"
    client.post(
        reverse("bnpl:credit-rule-edit", args=[kept.pk]),
        {"name": "Of age", "fact": "age", "operator": "ge", "value": "21", "position": "10"},
    )
    client.post(reverse("bnpl:credit-rule-toggle", args=[kept.pk]))
    client.post(reverse("bnpl:credit-rules-combine"), {"combine": "maybe"})
    client.post(reverse("bnpl:credit-rules-combine"), {"combine": "any"})
    kept.refresh_from_db()
    assert (kept.value, kept.active) == ("21", False)
    from bnpl.models import CreditRuleSet

    assert CreditRuleSet.current().combine == "any"
    assert AuditEvent.objects.filter(action="bnpl.credit_rule_deactivated").count() == 1
    assert AuditEvent.objects.filter(action="bnpl.credit_rules_combine_changed").count() == 1


def test_back_office_sets_a_purchase_limit_and_bad_input_changes_nothing(cast, shopper, login_as):
    client = login_as(cast.backoffice)
    url = reverse("bnpl:shopper-limit", args=[shopper.pk])
    assert client.get(url).status_code == 200
    for amount, currency in [("0", "EUR"), ("-5", "EUR"), ("abc", "EUR"), ("10.001", "EUR"), ("10", "XXX")]:
        assert client.post(url, {"amount": amount, "currency": currency}).status_code == 400
    shopper.refresh_from_db()
    assert shopper.purchase_limit == Decimal("1000.00")
    assert client.post(url, {"amount": "2500.00", "currency": "EUR"}).status_code == 302
    shopper.refresh_from_db()
    assert shopper.purchase_limit == Decimal("2500.00")
    assert AuditEvent.objects.filter(action="bnpl.purchase_limit_set", actor=cast.backoffice).count() == 1


@pytest.mark.parametrize("who", ["merchant", "client2", "outsider", "broker1"])
def test_others_are_refused_the_back_office_pages(cast, shopper, in_review, login_as, who):
    kept = rule(cast.backoffice, "age", "ge", "18")
    client = login_as(getattr(cast, who))
    for url in [
        reverse("bnpl:credit-rules"),
        reverse("bnpl:credit-rule-edit", args=[kept.pk]),
        reverse("bnpl:shopper-limit", args=[shopper.pk]),
        reverse("bnpl:review-list"),
        reverse("bnpl:review-detail", args=[in_review.pk]),
    ]:
        assert client.get(url).status_code in (403, 404), url
    assert client.post(reverse("bnpl:credit-rule-toggle", args=[kept.pk])).status_code in (403, 404)
    post = client.post(reverse("bnpl:shopper-limit", args=[shopper.pk]), {"amount": "9999", "currency": "EUR"})
    assert post.status_code in (403, 404)
    kept.refresh_from_db()
    shopper.refresh_from_db()
    assert kept.active and shopper.purchase_limit == Decimal("1000.00")


def test_a_credit_analyst_reads_rules_nowhere_but_prepares_on_the_review_page(cast, in_review, analyst, login_as):
    client = login_as(analyst)
    assert client.get(reverse("bnpl:credit-rules")).status_code == 403
    page = client.get(reverse("bnpl:review-detail", args=[in_review.pk]))
    assert page.status_code == 200 and 'data-testid="decision-trace"' in page.content.decode()
    bad = client.post(reverse("bnpl:review-detail", args=[in_review.pk]), {"recommendation": "decline", "note": ""})
    assert bad.status_code == 400 and not Approval.objects.exists()
    done = client.post(reverse("bnpl:review-detail", args=[in_review.pk]), {"recommendation": "approve", "note": "ok"})
    assert done.status_code == 302
    assert approval_pending_for(kind=PURCHASE_KIND, obj=in_review).maker == analyst
    # Back office sees the case on the approval page and decides it there.
    approval = approval_pending_for(kind=PURCHASE_KIND, obj=in_review)
    response = login_as(cast.backoffice).post(reverse("approvals:approval-approve", args=[approval.pk]), {"reason": ""})
    assert response.status_code in (200, 302)
    in_review.refresh_from_db()
    assert in_review.state == Order.State.APPROVED


@pytest.mark.parametrize("size", [2, 12])
def test_the_review_list_costs_the_same_queries_at_any_size(
    cast, shop, shopper, analyst, login_as, django_assert_max_num_queries, size
):
    for _ in range(size):
        decide_order(order_id=pending(shop, shopper, amount="1500.00").pk)
    client = login_as(analyst)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("bnpl:review-list"))
    assert response.content.decode().count('data-testid="review-') == size + 1  # the table and its rows


def test_the_responsible_back_office_is_alerted_by_email_not_the_preparer(cast, in_review, analyst):
    from portal.notifications.models import OutboxMessage

    purchase_review_prepare(actor=analyst, order_id=in_review.pk, recommendation="approve")
    emailed = set(
        OutboxMessage.objects.filter(event="approvals.requested", channel="email").values_list("recipient", flat=True)
    )
    assert {"backoffice@example.com", "admin@example.com"} <= emailed
    assert "analyst@example.com" not in emailed and "merchant@example.com" not in emailed
