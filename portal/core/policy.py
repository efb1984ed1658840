"""One authorization policy per object type: which objects an actor may reach, for which action.

Every app writes, in its `permissions.py`, one `Policy` per model whose objects belong to someone.
A policy states its rule once, as a filter: `scope(actor, action)` returns a `Q` for the objects
the actor may reach (or `ALL`, or `NOTHING`). Everything else is derived from it:

- `Model.objects.restrict(actor, action)` (a `RestrictedQuerySet`, as in NetBox): the rows for a
  list, an export, an API endpoint, an admin change list or a task;
- `policy.has(actor, obj, action)`: the decision for one object already loaded — the same filter
  evaluated on the object in Python where its lookups allow (plain fields, `__in`, relations that
  are loaded), else one indexed query; none at all when the scope is all or nothing;
- `RestrictedAdmin`: admin querysets and object permissions through the same rule.

An actor that is not signed in or not active reaches nothing, whatever the policy says. Actions are
named by each policy (`"view"`, `"change"`, `"share"`, …); asking for one it does not know is a
programming error and raises.
"""

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model, Q, QuerySet
from django.db.models.constants import LOOKUP_SEP

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
        decided = q_matches(obj, scope)
        if decided is not None:
            return decided
        return self.model._default_manager.filter(scope, pk=obj.pk).exists()


def q_matches(obj, q: Q) -> bool | None:
    """Whether a loaded object satisfies `q`, decided in Python; None when it cannot tell without the database.

    Understands what policies write: field or relation equality (`advisor=actor`, `status="x"`),
    `__in`, `__exact`, negation, AND/OR, and lookups through relations that are already loaded
    (`advisor__organisation_id`). Anything else answers None and the caller asks the database.
    """
    # Children in order, stopping at the first that decides (so a lazy value further on, such as a
    # broker's shared clients, is not even fetched when the first alternative already holds).
    decisive = q.connector == Q.OR  # the outcome that settles an OR (True) or an AND (False)
    unknown = False
    for child in q.children:
        outcome = q_matches(obj, child) if isinstance(child, Q) else _lookup_matches(obj, *child)
        if outcome is None:
            unknown = True
        elif outcome is decisive:
            return not decisive if q.negated else decisive
    if unknown:
        return None
    matched = not decisive
    return not matched if q.negated else matched


def _lookup_matches(obj, lookup: str, value) -> bool | None:
    parts = lookup.split(LOOKUP_SEP)
    operator = parts.pop() if len(parts) > 1 and parts[-1] in ("exact", "in") else "exact"
    target = obj
    for name in parts[:-1]:
        try:
            field = target._meta.get_field(name)
        except FieldDoesNotExist:
            return None
        if not (field.many_to_one or field.one_to_one) or not field.is_cached(target):
            return None  # a relation not loaded: the database answers
        target = getattr(target, name)
        if target is None:
            return False
    name = parts[-1]
    if name == "pk":
        actual = target.pk
    else:
        try:
            field = target._meta.get_field(name)
        except FieldDoesNotExist:
            return None
        if field.many_to_many or field.one_to_many:
            return None
        actual = getattr(target, field.attname)
    if operator == "in":
        return actual in {_plain(v) for v in value}
    return actual == _plain(value)


def _plain(value):
    return value.pk if isinstance(value, Model) else value


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
