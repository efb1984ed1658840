"""The kinds of work the inbox lists, registered by the apps that own the work (AppConfig.ready()).

    register_inbox_kind(
        "signing.signed_request",
        label=_("Signed request"),
        roles={Role.BACKOFFICE},
        count_label=_("Signed requests waiting"),  # a counter on the back-office home, linked to the inbox
    )

A user sees the items of every kind whose roles they hold; `scope(actor) -> Q` over WorkItem
narrows a kind further (a credit analyst sees only `queue="credit"`). `sync()` re-opens the items
of objects still waiting (`manage.py inbox_sync`), for data written before the kind existed.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.core import navigation, work


@dataclass(frozen=True)
class InboxKind:
    key: str
    label: str
    roles: frozenset
    scope: Callable | None = None  # (actor) -> Q over WorkItem, within the kind
    order: int = 50
    sync: Callable | None = None  # () -> int: items (re)opened for objects still waiting

    def visible_to(self, roles) -> bool:
        return bool(self.roles & roles)

    def condition(self, actor) -> Q:
        """The items of this kind `actor` sees (the caller checked the roles)."""
        condition = Q(kind=self.key)
        if self.scope is not None:
            condition &= self.scope(actor)
        return condition


_kinds: dict[str, InboxKind] = {}


def register_inbox_kind(
    key: str,
    *,
    label,
    roles,
    scope: Callable | None = None,
    order: int = 50,
    sync: Callable | None = None,
    count_label=None,
    count_order: int = 50,
    count_second_factor_for="",
) -> InboxKind:
    """Add a kind (registering a key again replaces it: reloads, tests)."""
    kind = InboxKind(key=key, label=label, roles=frozenset(roles), scope=scope, order=order, sync=sync)
    _kinds[key] = kind
    if count_label is not None:
        from .selectors import inbox_count  # the selectors read this registry

        work.register_work_count(
            count_label,
            "inbox:list",
            kind.roles,
            lambda *, actor: inbox_count(actor=actor, kind=key),
            query=f"kind={key}",
            order=count_order,
            second_factor_for=count_second_factor_for,
        )
    _register_nav()
    return kind


def unregister_inbox_kind(key: str) -> None:
    """Remove a kind and its home counter (tests that register a kind of their own)."""
    _kinds.pop(key, None)
    work._counts.pop(f"inbox:list?kind={key}", None)
    _register_nav()


def kind_get(key: str) -> InboxKind:
    try:
        return _kinds[key]
    except KeyError:
        raise LookupError(f"No inbox kind {key!r} is registered") from None


def kind_list() -> list[InboxKind]:
    return sorted(_kinds.values(), key=lambda k: (k.order, k.key))


def kinds_for(user) -> list[InboxKind]:
    """The kinds whose items `user` may see, in their order."""
    if not user.is_authenticated or not user.is_active:
        return []
    roles = user.roles
    return [kind for kind in kind_list() if kind.visible_to(roles)]


def inbox_roles() -> frozenset:
    """Every role that sees some kind: who gets the menu entry and the header's count."""
    return frozenset().union(*(kind.roles for kind in _kinds.values()))


def _register_nav() -> None:
    # The entry follows the kinds: staff of a role with nothing in the inbox do not see it.
    roles = inbox_roles()
    if not roles:  # an entry without roles would be everyone's
        navigation.unregister("inbox:list")
        return
    navigation.register(navigation.NavItem(label=_("Work inbox"), url_name="inbox:list", roles=roles, order=5))
