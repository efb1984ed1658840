"""One authorization policy per object type: which objects an actor may reach, for which action.

Every app writes, in its `permissions.py`, one `Policy` per model whose objects belong to someone.
A policy states its rule once, as a filter: `scope(actor, action)` returns a `Q` for the objects
the actor may reach (or `ALL`, or `NOTHING`). Everything else is derived from it:

- `Model.objects.restrict(actor, action)` (a `RestrictedQuerySet`, as in NetBox): the rows for a
  list, an export, an API endpoint, an admin change list or a task;
- `policy.has(actor, obj, action)`: the decision for one object already loaded (one indexed query,
  none when the scope is all or nothing);
- `RestrictedAdmin`: admin querysets and object permissions through the same rule.

An actor that is not signed in or not active reaches nothing, whatever the policy says. Actions are
named by each policy (`"view"`, `"change"`, `"share"`, …); asking for one it does not know is a
programming error and raises.
"""

from django.db.models import Q, QuerySet

ALL = None
NOTHING = Q(pk__in=[])


class UnknownAction(ValueError):
    """The policy does not define this action."""


class Policy:
    """Subclass with `model`, `actions` and `scope()`; register it with `register_policy()`."""

    model = None
    actions: tuple[str, ...] = ("view",)

    def scope(self, actor, action: str) -> Q | None:
        """The objects `actor` may reach for `action`: a filter, `ALL` (None) or `NOTHING`."""
        raise NotImplementedError(f"{type(self).__name__} must define scope()")

    def scope_for(self, actor, action: str) -> Q | None:
        if action not in self.actions:
            raise UnknownAction(f"{type(self).__name__} knows no action {action!r}")
        if actor is None or not actor.is_authenticated or not actor.is_active:
            return NOTHING
        return self.scope(actor, action)

    def restrict(self, queryset: QuerySet, actor, action: str = "view") -> QuerySet:
        scope = self.scope_for(actor, action)
        if scope is ALL:
            return queryset
        if scope == NOTHING:
            return queryset.none()
        return queryset.filter(scope)

    def has(self, actor, obj, action: str = "view") -> bool:
        scope = self.scope_for(actor, action)
        if scope is ALL:
            return True
        if scope == NOTHING or obj is None or obj.pk is None:
            return False
        return self.model._default_manager.filter(scope, pk=obj.pk).exists()


_policies: dict = {}


def register_policy(policy: Policy) -> Policy:
    """Make `policy` the one for its model (an app's AppConfig.ready() or its permissions module)."""
    _policies[policy.model] = policy
    return policy


def policy_for(model) -> Policy:
    try:
        return _policies[model]
    except KeyError:
        raise LookupError(f"No policy is registered for {model.__name__}") from None


class RestrictedQuerySet(QuerySet):
    def restrict(self, actor, action: str = "view") -> QuerySet:
        """Only the rows the model's policy lets `actor` reach for `action`."""
        return policy_for(self.model).restrict(self, actor, action)
