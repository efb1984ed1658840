"""The credit decision module (seed 001): rules over facts decide an order at once, or send it to review.

- FACTS: what a rule may ask about the order and its shopper, each with its type and a bounded query.
- `decide_order`: evaluates the active rules (combined all/any) and stores a CreditDecision with the
  trace of every rule. Pass → the order is approved; fail, or an amount over the shopper's purchase
  limit (whatever the rules say) → the order waits in review, as a work-inbox item for credit analysts.
- `purchase_review_prepare`: a credit analyst (the seed's "user") prepares the review with a
  recommendation, which asks the approval engine (kind `bnpl.purchase`) for back office's decision;
  the engine refuses the preparer as approver. `purchase_decided` follows the outcome.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.dispatch import Signal
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from portal.accounts.roles import Role
from portal.approvals.models import Approval
from portal.approvals.services import approval_request
from portal.audit.services import audit_record
from portal.inbox.services import work_item_close, work_item_open

from .models import CreditDecision, CreditRule, CreditRuleSet, Instalment, Operator, Order, Plan

PURCHASE_KIND = "bnpl.purchase"
REVIEW_KIND = "bnpl.review"
REVIEW_WAITING = gettext_noop("Waiting for review")
REVIEW_PREPARED = gettext_noop("Prepared for approval")

# Sent after commit when an order's credit decision is final: outcome "approved" or "declined",
# `manual` True when people decided it. The merchant's webhook listens here.
order_credit_decided = Signal()


# --- Facts -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fact:
    key: str
    label: str
    type: type  # bool, int, Decimal or str
    compute: Callable  # compute(order) -> value or None (unknown: every comparison fails)


FACTS: dict[str, Fact] = {}


def register_fact(key: str, label, type_: type, compute: Callable) -> Fact:
    FACTS[key] = fact = Fact(key=key, label=label, type=type_, compute=compute)
    return fact


def _within_limit(order) -> bool:
    shopper = order.shopper
    return order.currency == shopper.purchase_limit_currency and order.amount <= shopper.purchase_limit


def _overdue_instalments(order) -> int:
    return Instalment.objects.filter(plan__order__shopper_id=order.shopper_id, state=Instalment.State.OVERDUE).count()


def _open_plans(order) -> int:
    """Plans of the shopper's other orders still running (this order's plan does not count against it)."""
    return (
        Plan.objects.filter(
            order__shopper_id=order.shopper_id, state__in=[Plan.State.AWAITING_SHIPMENT, Plan.State.ACTIVE]
        )
        .exclude(order_id=order.pk)
        .count()
    )


def _age(order, today=None) -> int | None:
    born = order.shopper.date_of_birth
    if born is None:
        return None
    today = today or timezone.localdate()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


register_fact("kyc_passed", gettext_lazy("KYC passed"), bool, lambda order: order.shopper.kyc_passed)
register_fact("within_purchase_limit", gettext_lazy("Order within the purchase limit"), bool, _within_limit)
register_fact("overdue_instalments", gettext_lazy("Overdue instalments"), int, _overdue_instalments)
register_fact("open_plans", gettext_lazy("Open plans"), int, _open_plans)
register_fact("age", gettext_lazy("Age (years)"), int, _age)
register_fact("region", gettext_lazy("Region"), str, lambda order: order.shopper.region)
register_fact("order_amount", gettext_lazy("Order amount"), Decimal, lambda order: order.amount)

OPERATORS_FOR_TYPE = {
    bool: {Operator.IS_TRUE, Operator.IS_FALSE},
    int: {Operator.EQ, Operator.NE, Operator.LT, Operator.LE, Operator.GT, Operator.GE, Operator.IN, Operator.NOT_IN},
    Decimal: {Operator.EQ, Operator.NE, Operator.LT, Operator.LE, Operator.GT, Operator.GE},
    str: {Operator.EQ, Operator.NE, Operator.IN, Operator.NOT_IN},
}
LIST_OPERATORS = {Operator.IN, Operator.NOT_IN}
NO_VALUE_OPERATORS = {Operator.IS_TRUE, Operator.IS_FALSE}


def _parse_one(text: str, type_: type):
    text = text.strip()
    if type_ is int:
        return int(text)
    if type_ is Decimal:
        value = Decimal(text)
        if not value.is_finite():
            raise ValueError(text)
        return value
    if not text:
        raise ValueError(text)
    return text


def rule_value_parse(*, fact: str, operator: str, value: str):
    """The rule's value in the fact's type (a list for in/not_in, None for is_true/is_false).

    Raises ValidationError (field-keyed) for an unknown fact, an operator the fact's type does not
    take, or a value that does not parse.
    """
    known = FACTS.get(fact)
    if known is None:
        raise ValidationError({"fact": _("Unknown fact: %(fact)s.") % {"fact": fact}}, code="unknown_fact")
    if operator not in Operator.values:
        raise ValidationError({"operator": _("Unknown operator: %(op)s.") % {"op": operator}}, code="unknown_operator")
    if operator not in OPERATORS_FOR_TYPE[known.type]:
        raise ValidationError(
            {"operator": _("%(fact)s cannot be compared with “%(op)s”.") % {"fact": known.label, "op": operator}},
            code="operator_for_type",
        )
    if operator in NO_VALUE_OPERATORS:
        return None
    try:
        if operator in LIST_OPERATORS:
            items = [part for part in (value or "").split(",") if part.strip()]
            if not items:
                raise ValueError(value)
            return [_parse_one(part, known.type) for part in items]
        return _parse_one(value or "", known.type)
    except (ValueError, InvalidOperation):
        expected = {int: _("a whole number"), Decimal: _("an amount such as 250.00"), str: _("some text")}
        raise ValidationError(
            {"value": _("“%(value)s” is not %(expected)s.") % {"value": value, "expected": expected[known.type]}},
            code="bad_value",
        ) from None


def _compare(operator: str, seen, expected) -> bool:
    if operator == Operator.IS_TRUE:
        return seen is True
    if operator == Operator.IS_FALSE:
        return seen is False
    if seen is None:
        return False
    if operator == Operator.IN:
        return seen in expected
    if operator == Operator.NOT_IN:
        return seen not in expected
    return {
        Operator.EQ: seen == expected,
        Operator.NE: seen != expected,
        Operator.LT: seen < expected,
        Operator.LE: seen <= expected,
        Operator.GT: seen > expected,
        Operator.GE: seen >= expected,
    }[operator]


def _plain(value):
    """A fact's value as the trace stores it (JSON): Decimals as strings."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def rules_evaluate(order, rules) -> list[dict]:
    """One trace entry per rule, each fact computed once (a query at most per fact)."""
    seen_by_fact = {}
    trace = []
    for rule in rules:
        if rule.fact not in seen_by_fact:
            seen_by_fact[rule.fact] = FACTS[rule.fact].compute(order)
        seen = seen_by_fact[rule.fact]
        expected = rule_value_parse(fact=rule.fact, operator=rule.operator, value=rule.value)
        trace.append(
            {
                "rule": rule.name,
                "rule_id": rule.pk,
                "fact": rule.fact,
                "operator": rule.operator,
                "expected": rule.value,
                "seen": _plain(seen),
                "passed": _compare(rule.operator, seen, expected),
            }
        )
    return trace


def _snapshot(rule_set: CreditRuleSet, rules) -> dict:
    return {
        "combine": rule_set.combine,
        "rules": [
            {"id": r.pk, "name": r.name, "fact": r.fact, "operator": r.operator, "value": r.value} for r in rules
        ],
    }


# --- Deciding an order -----------------------------------------------------------------------------


def decide_order(*, order_id: int, actor=None) -> CreditDecision:
    """Decide an order waiting for its credit decision: approved at once, or in review.

    Durable: the order is locked, decided, its decision and audit event written in one transaction.
    An order over the shopper's purchase limit always goes to review.
    """
    with transaction.atomic(durable=True):
        order = Order.objects.select_for_update().select_related("shopper__user").get(pk=order_id)
        if order.state != Order.State.PENDING_DECISION:
            raise ValidationError(_("This order has already been decided."), code="already_decided")
        rule_set = CreditRuleSet.current()
        rules = list(CreditRule.objects.filter(active=True))
        trace = rules_evaluate(order, rules)
        results = [entry["passed"] for entry in trace]
        rules_pass = all(results) if rule_set.combine == CreditRuleSet.Combine.ALL else (any(results) or not results)
        within = _within_limit(order)
        if not within:
            trace.append(
                {
                    "rule": gettext_noop("Purchase limit (always checked)"),
                    "rule_id": None,
                    "fact": "within_purchase_limit",
                    "operator": Operator.IS_TRUE,
                    "expected": "",
                    "seen": False,
                    "passed": False,
                }
            )
        approved = rules_pass and within
        outcome = CreditDecision.Outcome.APPROVED if approved else CreditDecision.Outcome.REVIEW
        decision = CreditDecision.objects.create(
            order=order, outcome=outcome, over_limit=not within, trace=trace, rule_set=_snapshot(rule_set, rules)
        )
        order.state = Order.State.APPROVED if approved else Order.State.IN_REVIEW
        order.save(update_fields=["state", "updated_at"])
        if not approved:
            work_item_open(
                kind=REVIEW_KIND,
                obj=order,
                subject=str(order),
                party=order.shopper.user.email,
                url=reverse("bnpl:review-detail", args=[order.pk]),
                queue="credit",
                state=REVIEW_WAITING,
                opened_at=decision.decided_at,
            )
        audit_record(
            action="bnpl.order_decided",
            actor=actor,
            actor_label="" if actor else "credit rules",
            obj=order,
            changes={
                "state": [Order.State.PENDING_DECISION, order.state],
                "outcome": outcome,
                "over_limit": not within,
                "failed": [e["fact"] for e in trace if not e["passed"]],
            },
        )
        if approved:
            _tell_after_commit(order, "approved", manual=False)
    return decision


def _tell_after_commit(order, outcome: str, *, manual: bool) -> None:
    """The shop hears the decision by webhook (queued in this transaction), the app's listeners after commit."""
    from .models import WebhookEvent
    from .webhooks import order_webhook

    order_webhook(order, WebhookEvent.ORDER_APPROVED if outcome == "approved" else WebhookEvent.ORDER_DECLINED)
    order_id = order.pk
    transaction.on_commit(
        lambda: order_credit_decided.send(sender=Order, order_id=order_id, outcome=outcome, manual=manual)
    )


def decision_latest(order) -> CreditDecision | None:
    return CreditDecision.objects.filter(order=order).first()


def purchase_review_prepare(*, actor, order_id: int, recommendation: str, note: str = "") -> CreditDecision:
    """A credit analyst prepares an order in review for back office's approval (maker = the analyst)."""
    if not actor.has_role(Role.CREDIT_ANALYST):
        raise PermissionDenied
    if recommendation not in CreditDecision.Recommendation.values:
        raise ValidationError({"recommendation": _("Choose approve or decline.")}, code="recommendation")
    note = (note or "").strip()
    if recommendation == CreditDecision.Recommendation.DECLINE and not note:
        raise ValidationError({"note": _("Say why you recommend declining.")}, code="note_required")
    with transaction.atomic(durable=True):
        order = Order.objects.select_for_update().select_related("shopper__user").get(pk=order_id)
        if order.state != Order.State.IN_REVIEW:
            raise ValidationError(_("This order is not in review."), code="not_in_review")
        decision = CreditDecision.objects.select_for_update().filter(order=order).first()
        if decision is None or decision.prepared_by_id is not None:
            raise ValidationError(_("This review has already been prepared."), code="already_prepared")
        decision.recommendation = recommendation
        decision.review_note = note
        decision.prepared_by = actor
        decision.prepared_at = timezone.now()
        decision.save(update_fields=["recommendation", "review_note", "prepared_by", "prepared_at"])
        approval_request(
            kind=PURCHASE_KIND,
            obj=order,
            maker=actor,
            amount=order.amount,
            currency=order.currency,
            note=f"{decision.get_recommendation_display()}: {note}" if note else decision.get_recommendation_display(),
        )
        work_item_close(kind=REVIEW_KIND, obj=order, state=REVIEW_PREPARED)
        audit_record(
            action="bnpl.purchase_review_prepared",
            actor=actor,
            obj=order,
            changes={"recommendation": recommendation, "note": note},
        )
    return decision


def purchase_decided(sender, approval, outcome, actor, decision, **kwargs) -> None:
    """`approval_decided` receiver: the order follows its approval, in the engine's transaction.

    A withdrawn or expired approval leaves the order in review (the analyst prepares it again).
    """
    if approval.kind != PURCHASE_KIND:
        return
    if outcome not in (Approval.State.APPROVED, Approval.State.REJECTED):
        if outcome in (Approval.State.WITHDRAWN, Approval.State.EXPIRED):
            _review_reopen(approval.object_id)
        return
    new_state = Order.State.APPROVED if outcome == Approval.State.APPROVED else Order.State.DECLINED
    won = Order.objects.filter(pk=approval.object_id, state=Order.State.IN_REVIEW).update(
        state=new_state, updated_at=timezone.now()
    )
    if not won:
        # Raised inside the engine's transaction: the decision is undone with it.
        raise ValidationError(_("The order is no longer in review."), code="not_in_review")
    order = Order.objects.get(pk=approval.object_id)
    CreditDecision.objects.filter(pk=decision_latest(order).pk).update(
        outcome=CreditDecision.Outcome.APPROVED
        if new_state == Order.State.APPROVED
        else CreditDecision.Outcome.DECLINED
    )
    audit_record(
        action="bnpl.purchase_approved" if new_state == Order.State.APPROVED else "bnpl.purchase_declined",
        actor=actor,
        obj=order,
        changes={"state": [Order.State.IN_REVIEW, new_state], "reason": decision.reason},
    )
    _tell_after_commit(order, new_state, manual=True)


def _review_reopen(order_id: int) -> None:
    """The prepared review goes back to the analysts (the approval was withdrawn or expired)."""
    order = Order.objects.select_related("shopper__user").filter(pk=order_id, state=Order.State.IN_REVIEW).first()
    if order is None:
        return
    CreditDecision.objects.filter(pk=decision_latest(order).pk).update(
        recommendation="", review_note="", prepared_by=None, prepared_at=None
    )
    work_item_open(
        kind=REVIEW_KIND,
        obj=order,
        subject=str(order),
        party=order.shopper.user.email,
        url=reverse("bnpl:review-detail", args=[order.pk]),
        queue="credit",
        state=REVIEW_WAITING,
    )


def purchase_describe(order) -> tuple[str, str, str]:
    """What the approvals list, the work inbox and the alerts show of an order in review."""
    return (
        f"{order.reference} · {order.amount} {order.currency}",
        order.shopper.user.email,
        reverse("bnpl:review-detail", args=[order.pk]),
    )


def purchase_maker(order):
    decision = decision_latest(order)
    return decision.prepared_by if decision else None
