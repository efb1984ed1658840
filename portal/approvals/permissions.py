"""Who sees and who decides an approval: one policy for pages, API, admin and exports.

view:   the maker of the case, and staff holding an approver role of its kind;
decide: staff holding an approver role of its kind, never the maker.

Whether the case is still pending, whether the person decided already and whether a second factor
is needed are the service's checks on the locked row (services.py), not a matter of scope.
"""

from django.db.models import Q

from portal.core.policy import NOTHING, Policy, register_policy

from .models import Approval
from .registry import kinds_decidable_by


class ApprovalAccessPolicy(Policy):
    model = Approval
    actions = ("view", "decide")

    def scope(self, actor, action):
        kinds = kinds_decidable_by(actor)
        if action == "decide":
            return Q(kind__in=kinds) & ~Q(maker=actor) if kinds else NOTHING
        return Q(kind__in=kinds) | Q(maker=actor) if kinds else Q(maker=actor)


approvals = register_policy(ApprovalAccessPolicy())


def may_use_approvals(actor) -> bool:
    """Whether the approvals page belongs in the actor's menu: they decide some kind."""
    return bool(actor.is_authenticated and kinds_decidable_by(actor))
