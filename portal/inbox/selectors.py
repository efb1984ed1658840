"""Reads of the work inbox, always scoped to the actor by the inbox's policy (portal.inbox.permissions)."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import F, QuerySet
from django.http import Http404
from django.utils import timezone

from . import counts, registry
from .models import WorkItem

ASSIGNED_CHOICES = ("", "me", "unassigned")
SORTS = ("age", "-age", "due")
STATUSES = ("open", "closed")


def inbox_items(
    *,
    actor,
    kind: str | None = None,
    assigned: str = "",
    overdue: bool = False,
    sort: str = "age",
    status: str = "open",
) -> QuerySet[WorkItem]:
    """The items the actor sees: open ones (or `status="closed"`, the latest closed first), filtered.

    `assigned` is "me", "unassigned" or "" (anyone); `sort` is "age" (oldest first), "-age" (newest
    first) or "due" (the earliest due first, items without a due time last). A value outside these
    raises ValueError (the page validates its filter before asking).
    """
    if assigned not in ASSIGNED_CHOICES or sort not in SORTS or status not in STATUSES:
        raise ValueError(f"bad inbox filter: assigned={assigned!r} sort={sort!r} status={status!r}")
    items = WorkItem.objects.restrict(actor, "view").select_related("assignee")
    items = items.filter(closed_at__isnull=status == "open")
    if kind:
        items = items.filter(kind=kind)
    if assigned == "me":
        items = items.filter(assignee=actor)
    elif assigned == "unassigned":
        items = items.filter(assignee__isnull=True)
    if overdue:
        items = items.filter(due_at__lt=timezone.now(), closed_at__isnull=True)
    if status == "closed":
        return items.order_by("-closed_at", "-id")
    if sort == "due":
        return items.order_by(F("due_at").asc(nulls_last=True), "opened_at", "id")
    if sort == "-age":
        return items.order_by("-opened_at", "-id")
    return items.order_by("opened_at", "id")


def inbox_count(*, actor, kind: str | None = None) -> int:
    """How many open items the actor sees (of one kind, or of all: the header's badge, cached)."""
    if kind is not None:
        return inbox_items(actor=actor, kind=kind).count()
    if not registry.kinds_for(actor):
        return 0
    return counts.cached_count(actor, lambda: inbox_items(actor=actor).count())


def access_work_item(*, actor, item_id) -> WorkItem:
    """One item the actor sees, or 404 (an item outside their kinds does not exist for them)."""
    try:
        return WorkItem.objects.restrict(actor, "view").select_related("assignee").get(pk=item_id)
    except (WorkItem.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


@dataclass(frozen=True)
class Colleague:
    pk: int
    label: str


def colleagues_by_kind(*, kinds) -> dict[str, list[Colleague]]:
    """Who may be assigned items of each kind (active users holding one of its roles); one query for all kinds.

    A kind's own scope is checked when an item is assigned (`work_item_assign` refuses someone the
    item is outside of); the choice lists every holder of the roles.
    """
    kinds = list(kinds)
    roles = frozenset().union(*(kind.roles for kind in kinds)) if kinds else frozenset()
    if not roles:
        return {}
    rows = (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=roles)
        .order_by("first_name", "last_name", "email", "pk")
        .values_list("pk", "first_name", "last_name", "email", "groups__name")
    )
    people: dict[int, Colleague] = {}
    held: dict[int, set] = {}
    for pk, first, last, email, role in rows:
        name = f"{first} {last}".strip()
        people.setdefault(pk, Colleague(pk=pk, label=f"{name} ({email})" if name else email))
        held.setdefault(pk, set()).add(role)
    return {kind.key: [people[pk] for pk in people if held[pk] & kind.roles] for kind in kinds}
