"""Back office's writes to the decision module: credit rules, how they combine, shoppers' purchase limits."""

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from portal.accounts.roles import Role
from portal.audit.services import audit_record

from .decisions import rule_value_parse
from .models import CreditRule, CreditRuleSet, Shopper
from .money import SUPPORTED_CURRENCIES, money_round

RULE_FIELDS = ("name", "fact", "operator", "value", "position", "active")


def _backoffice_only(actor) -> None:
    if actor is None or not actor.has_role(Role.BACKOFFICE):
        raise PermissionDenied


def credit_rule_check(*, name: str, fact: str, operator: str, value: str) -> None:
    """Whether a rule's fields make a rule: ValidationError by field if not (the forms show it)."""
    if not (name or "").strip():
        raise ValidationError({"name": _("Give the rule a name.")}, code="name_required")
    rule_value_parse(fact=fact, operator=operator, value=value)


def credit_rule_create(
    *, actor, name: str, fact: str, operator: str, value: str = "", position: int = 10
) -> CreditRule:
    _backoffice_only(actor)
    credit_rule_check(name=name, fact=fact, operator=operator, value=value)
    with transaction.atomic(durable=True):
        rule = CreditRule.objects.create(
            name=name.strip(), fact=fact, operator=operator, value=(value or "").strip(), position=position
        )
        audit_record(
            action="bnpl.credit_rule_created",
            actor=actor,
            obj=rule,
            changes={f: str(getattr(rule, f)) for f in RULE_FIELDS},
        )
    return rule


def credit_rule_update(*, actor, rule_id: int, **fields) -> CreditRule:
    """Change a rule's fields (any of RULE_FIELDS); the result must still parse for its fact."""
    _backoffice_only(actor)
    unknown = set(fields) - set(RULE_FIELDS)
    if unknown:
        raise ValueError(f"Unknown rule fields: {sorted(unknown)}")
    with transaction.atomic(durable=True):
        rule = CreditRule.objects.select_for_update().get(pk=rule_id)
        merged = {f: fields.get(f, getattr(rule, f)) for f in RULE_FIELDS}
        if isinstance(merged["value"], str):
            merged["value"] = merged["value"].strip()
        credit_rule_check(name=merged["name"], fact=merged["fact"], operator=merged["operator"], value=merged["value"])
        changes = {f: [str(getattr(rule, f)), str(merged[f])] for f in RULE_FIELDS if getattr(rule, f) != merged[f]}
        if not changes:
            return rule
        for field, value in merged.items():
            setattr(rule, field, value)
        rule.save()
        audit_record(
            action="bnpl.credit_rule_deactivated"
            if changes.keys() == {"active"} and not rule.active
            else "bnpl.credit_rule_changed",
            actor=actor,
            obj=rule,
            changes=changes,
        )
    return rule


def credit_rule_set_combine(*, actor, combine: str) -> CreditRuleSet:
    _backoffice_only(actor)
    if combine not in CreditRuleSet.Combine.values:
        raise ValidationError({"combine": _("Choose “all” or “any”.")}, code="combine")
    with transaction.atomic(durable=True):
        rule_set = CreditRuleSet.current()
        rule_set = CreditRuleSet.objects.select_for_update().get(pk=rule_set.pk)
        if rule_set.combine == combine:
            return rule_set
        before = rule_set.combine
        rule_set.combine = combine
        rule_set.save(update_fields=["combine", "updated_at"])
        audit_record(
            action="bnpl.credit_rules_combine_changed",
            actor=actor,
            obj=rule_set,
            changes={"combine": [before, combine]},
        )
    return rule_set


def shopper_purchase_limit_set(*, actor, shopper_id: int, amount: Decimal, currency: str) -> Shopper:
    """Back office sets a shopper's purchase limit (Decimal > 0, in a supported currency)."""
    _backoffice_only(actor)
    errors = {}
    if currency not in SUPPORTED_CURRENCIES:
        errors["currency"] = _("%(currency)s is not supported; use one of %(supported)s.") % {
            "currency": currency,
            "supported": ", ".join(SUPPORTED_CURRENCIES),
        }
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
        errors["amount"] = _("The limit must be more than zero.")
    elif currency in SUPPORTED_CURRENCIES and amount != money_round(amount, currency):
        errors["amount"] = _("The amount has more decimal places than its currency.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic(durable=True):
        shopper = Shopper.objects.select_for_update().get(pk=shopper_id)
        before = [str(shopper.purchase_limit), shopper.purchase_limit_currency]
        shopper.purchase_limit = amount
        shopper.purchase_limit_currency = currency
        shopper.save(update_fields=["purchase_limit", "purchase_limit_currency"])
        audit_record(
            action="bnpl.purchase_limit_set",
            actor=actor,
            obj=shopper,
            changes={"purchase_limit": [" ".join(before), f"{amount} {currency}"]},
        )
    return shopper
