"""The decision module in admin.

Credit rules and how they combine are edited here through the same services as the rule builder
(bnpl/decision_rules.py: checked, audited, back office only), so admin is one more door to the same
room, not a way around it. Credit decisions are evidence of why an order was approved, sent to
review or declined: nobody adds, changes or deletes them, here or anywhere. Who sees what is the
policy's call (bnpl/decision_policies.py): staff who read BNPL see all three, only back office
changes rules.
"""

import json

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from portal.core.admin import ReadOnlyAdmin, RestrictedAdmin
from portal.core.policy import NOTHING, policy_for

from . import decision_rules
from .decisions import FACTS
from .models import CreditDecision, CreditRule, CreditRuleSet


class PolicyChangeAdmin(RestrictedAdmin):
    """Change (and add) only where the model's policy grants "change" as well as Django's permission."""

    def _policy_allows_change(self, request, obj=None) -> bool:
        policy = policy_for(self.model)
        if obj is None:
            return policy.scope_for(request.user, "change") != NOTHING
        return policy.has(request.user, obj, "change")

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._policy_allows_change(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # Admin wraps the form in a transaction of its own; here the service owns the one transaction
        # (durable, with its row lock and audit event), as it does for the rule builder's page.
        return self._changeform_view(request, object_id, form_url, extra_context)


class CreditRuleAdminForm(forms.ModelForm):
    fact = forms.ChoiceField(label=_("fact"))

    class Meta:
        model = CreditRule
        fields = list(decision_rules.RULE_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fact"].choices = [(key, fact.label) for key, fact in FACTS.items()]

    def clean(self):
        data = super().clean()
        if not self.errors:
            try:
                decision_rules.credit_rule_check(
                    name=data.get("name", ""),
                    fact=data.get("fact", ""),
                    operator=data.get("operator", ""),
                    value=data.get("value") or "",
                )
            except ValidationError as exc:
                self.add_error(None, exc)
        return data


@admin.register(CreditRule)
class CreditRuleAdmin(PolicyChangeAdmin):
    """Rules are never deleted (decisions name them): switch one off instead."""

    form = CreditRuleAdminForm
    list_display = ["position", "name", "fact", "operator", "value", "active", "updated_at"]
    list_display_links = ["name"]
    list_filter = ["active", "fact"]
    search_fields = ["name"]

    def has_add_permission(self, request):
        return super().has_add_permission(request) and self._policy_allows_change(request)

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in decision_rules.RULE_FIELDS}
        if change:
            saved = decision_rules.credit_rule_update(actor=request.user, rule_id=obj.pk, **fields)
        else:
            active = fields.pop("active")
            saved = decision_rules.credit_rule_create(actor=request.user, **fields)
            if not active:
                saved = decision_rules.credit_rule_update(actor=request.user, rule_id=saved.pk, active=False)
        obj.pk, obj.created_at, obj.updated_at = saved.pk, saved.created_at, saved.updated_at


@admin.register(CreditRuleSet)
class CreditRuleSetAdmin(PolicyChangeAdmin):
    """The one rule set: only how the rules combine changes (through the rule builder's service)."""

    list_display = ["__str__", "combine", "updated_at"]
    fields = ["combine", "updated_at"]
    readonly_fields = ["updated_at"]

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        saved = decision_rules.credit_rule_set_combine(actor=request.user, combine=form.cleaned_data["combine"])
        obj.pk, obj.updated_at = saved.pk, saved.updated_at


@admin.register(CreditDecision)
class CreditDecisionAdmin(ReadOnlyAdmin, RestrictedAdmin):
    """A decision and its trace are evidence: shown, never added, changed or deleted."""

    list_display = ["decided_at", "order", "outcome", "over_limit", "recommendation", "prepared_by"]
    list_filter = ["outcome", "over_limit", "recommendation"]
    list_select_related = ["order", "prepared_by"]
    search_fields = ["order__reference"]
    date_hierarchy = "decided_at"
    fields = [
        "order",
        "outcome",
        "over_limit",
        "decided_at",
        "trace_table",
        "rule_set_shown",
        "recommendation",
        "review_note",
        "prepared_by",
        "prepared_at",
    ]
    readonly_fields = fields

    @admin.display(description=_("trace"))
    def trace_table(self, obj):
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{} {} {}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    step.get("rule", ""),
                    step.get("fact", ""),
                    step.get("operator", ""),
                    step.get("expected", ""),
                    step.get("seen", ""),
                    _("passed") if step.get("passed") else _("failed"),
                )
                for step in obj.trace or []
            ),
        )
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>",
            _("rule"),
            _("condition"),
            _("seen"),
            _("result"),
            rows,
        )

    @admin.display(description=_("rule set"))
    def rule_set_shown(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.rule_set, indent=2, ensure_ascii=False, default=str))
