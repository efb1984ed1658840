"""Who reaches the fee module's objects.

view: bnpl staff (back office, compliance, credit analysts) everything; a shopper their own fee
status, its history and the fees charged to them; merchants nothing (fees are between us and the
shopper).
manage (schedules, groups, status rules, a shopper's group): back office only.
"""

from django.db.models import Q

from portal.accounts.roles import Role
from portal.core.policy import ALL, NOTHING, Policy, register_policy

from .models import CustomerGroup, FeeCharge, FeeSchedule, FeeStatus, FeeStatusChange, FeeStatusRule
from .permissions import sees_all_bnpl


def can_manage_fees(actor) -> bool:
    return bool(actor.is_authenticated and actor.is_active and actor.has_role(Role.BACKOFFICE))


class StaffOnlyPolicy(Policy):
    """bnpl staff read; back office manages (the fee module and the collections, bnpl/collection_permissions.py)."""

    actions = ("view", "manage")

    def scope(self, actor, action):
        if action == "manage":
            return ALL if can_manage_fees(actor) else NOTHING
        return ALL if sees_all_bnpl(actor) else NOTHING


class CustomerGroupPolicy(StaffOnlyPolicy):
    model = CustomerGroup


class FeeSchedulePolicy(StaffOnlyPolicy):
    model = FeeSchedule


class FeeStatusRulePolicy(StaffOnlyPolicy):
    model = FeeStatusRule


class _ShopperOwnPolicy(Policy):
    actions = ("view",)
    path = "shopper__"

    def scope(self, actor, action):
        if sees_all_bnpl(actor):
            return ALL
        return Q(**{f"{self.path}user_id": actor.pk})


class FeeStatusPolicy(_ShopperOwnPolicy):
    model = FeeStatus


class FeeStatusChangePolicy(_ShopperOwnPolicy):
    model = FeeStatusChange


class FeeChargePolicy(_ShopperOwnPolicy):
    model = FeeCharge
    path = "instalment__plan__order__shopper__"


customer_groups = register_policy(CustomerGroupPolicy())
fee_schedules = register_policy(FeeSchedulePolicy())
fee_status_rules = register_policy(FeeStatusRulePolicy())
fee_statuses = register_policy(FeeStatusPolicy())
fee_status_changes = register_policy(FeeStatusChangePolicy())
fee_charges = register_policy(FeeChargePolicy())
