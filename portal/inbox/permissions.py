"""Who sees which work items: the one policy for the inbox page, its export, its buttons and admin.

Actions (`WorkItem.objects.restrict(actor, action)`):
- view — the items of every kind whose roles the actor holds, narrowed by the kind's own scope;
- work — claim, assign or release: the same items (whoever sees an item may take it on).

The kinds come from the registry (`portal.inbox.registry`), so the rule is written once here and
each app adds its kinds without touching it.
"""

from portal.core.policy import NOTHING, Policy, register_policy

from . import registry
from .models import WorkItem


class WorkItemPolicy(Policy):
    model = WorkItem
    actions = ("view", "work")

    def scope(self, actor, action):
        condition = NOTHING
        for kind in registry.kinds_for(actor):
            condition = kind.condition(actor) if condition == NOTHING else condition | kind.condition(actor)
        return condition


items = register_policy(WorkItemPolicy())


def may_take(user, item: WorkItem) -> bool:
    """Whether `user` may be the item's assignee: one of its kind's roles and the item within their scope."""
    try:
        kind = registry.kind_get(item.kind)
    except LookupError:
        return False
    if not (user.is_authenticated and user.is_active and kind.visible_to(user.roles)):
        return False
    return items.has(user, item, "view")


def sees_inbox(user) -> bool:
    return bool(registry.kinds_for(user))
