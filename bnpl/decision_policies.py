"""Who reaches the decision module's records: staff only (a shop or a shopper never sees the rules or traces).

view: back office, compliance and credit analysts; change (rules, how they combine): back office.
"""

from portal.accounts.roles import Role
from portal.core.policy import ALL, NOTHING, Policy, register_policy

from .models import CreditDecision, CreditRule, CreditRuleSet
from .permissions import sees_all_bnpl


class CreditRulePolicy(Policy):
    model = CreditRule
    actions = ("view", "change")

    def scope(self, actor, action):
        if action == "change":
            return ALL if actor.has_role(Role.BACKOFFICE) else NOTHING
        return ALL if sees_all_bnpl(actor) else NOTHING


class CreditRuleSetPolicy(CreditRulePolicy):
    model = CreditRuleSet


class CreditDecisionPolicy(Policy):
    model = CreditDecision

    def scope(self, actor, action):
        return ALL if sees_all_bnpl(actor) else NOTHING


credit_rules = register_policy(CreditRulePolicy())
credit_rule_sets = register_policy(CreditRuleSetPolicy())
credit_decisions = register_policy(CreditDecisionPolicy())
