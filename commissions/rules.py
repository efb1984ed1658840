"""Which rule decides a commission: plan precedence, product specificity, and dates.

For a broker's business the broker's plan is asked first, then their firm's, then the house
default; the first plan with a fitting rule decides (a broker's plan overrides, it does not add).
Within a plan a rule for the product beats one for its asset class, which beats one for every
product. A rule holds from its `valid_from` until a later row for the same slot (kind, product,
asset class, event) starts; a rate of 0 is how a commission is switched off from a day on.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from .models import CommissionPlan, CommissionRule, Kind


@dataclass
class RuleBook:
    plans: list[CommissionPlan]  # in precedence order
    rules: dict[int, list[CommissionRule]] = field(default_factory=dict)  # plan id -> rules by valid_from

    @classmethod
    def for_broker(cls, broker) -> "RuleBook":
        keys = [f"broker:{broker.pk}"]
        if broker.organisation_id:
            keys.append(f"firm:{broker.organisation_id}")
        keys.append("default")
        found = {p.scope_key: p for p in CommissionPlan.objects.filter(scope_key__in=keys)}
        plans = [found[k] for k in keys if k in found]
        rules: dict[int, list[CommissionRule]] = defaultdict(list)
        for rule in CommissionRule.objects.filter(plan__in=plans).order_by("valid_from", "pk"):
            rules[rule.plan_id].append(rule)
        return cls(plans=plans, rules=dict(rules))

    def find(
        self, kind: str, day: date, *, instrument_id=None, asset_class: str = "", event: str = ""
    ) -> CommissionRule | None:
        for plan in self.plans:
            rule = self._best_in_plan(plan, kind, day, instrument_id, asset_class, event)
            if rule is not None:
                return rule
        return None

    def override(self, day: date) -> tuple[CommissionRule | None, int | None]:
        """The firm plan's override rule on `day` and the manager who earns it."""
        for plan in self.plans:
            if plan.firm_id and plan.override_manager_id:
                rule = self._best_in_plan(plan, Kind.OVERRIDE, day, None, "", "")
                return (rule, plan.override_manager_id) if rule is not None else (None, None)
        return None, None

    def change_days(self, kind: str) -> set[date]:
        """Days on which some rule of this kind starts: spans of trailing days are split there."""
        return {r.valid_from for rules in self.rules.values() for r in rules if r.kind == kind}

    def _best_in_plan(self, plan, kind, day, instrument_id, asset_class, event) -> CommissionRule | None:
        current: dict[tuple, CommissionRule] = {}
        for rule in self.rules.get(plan.pk, ()):
            if rule.kind != kind or rule.valid_from > day:
                continue
            if rule.instrument_id is not None and rule.instrument_id != instrument_id:
                continue
            if rule.asset_class and rule.asset_class != asset_class:
                continue
            if kind == Kind.FIXED and rule.event != event:
                continue
            current[rule.slot] = rule  # rows come in date order: the latest valid one stays
        if not current:
            return None
        return max(current.values(), key=lambda r: (r.instrument_id is not None, bool(r.asset_class)))
