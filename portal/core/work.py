"""Work waiting for someone, counted by the apps that own it, so that `portal` never imports them.

An app registers a counter in its AppConfig.ready():

    register_work_count(
        label=_("Signed requests waiting"),
        url_name="signing:backoffice-inbox",
        roles={Role.BACKOFFICE},
        count_fn=lambda *, actor: backoffice_inbox(actor=actor).count(),
    )

A home page shows the counters of the user's roles. `count_fn` counts through the app's own
selectors, so the figure is scoped by the app's policy (what the user may see and act on), and
returns None when the work is not the user's at all (then the counter is not shown).
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class WorkCount:
    label: str
    url_name: str
    count_fn: Callable
    # Any one of these roles sees the counter; empty means every signed-in user.
    roles: frozenset = field(default_factory=frozenset)
    # Appended to the link, e.g. "status__exact=failed" for a filtered admin list.
    query: str = ""
    order: int = 50
    # "warning" draws attention to work that should not wait (failures); "" is plain.
    tone: str = ""
    # The action that needs a session verified by a second factor, e.g. "Approving a statement":
    # the page says so before the click. Empty: no second factor needed.
    second_factor_for: str = ""

    def visible_to(self, roles: frozenset) -> bool:
        return not self.roles or bool(self.roles & roles)


_counts: dict[str, WorkCount] = {}


def register_work_count(
    label,
    url_name: str,
    roles,
    count_fn: Callable,
    *,
    query: str = "",
    order: int = 50,
    tone: str = "",
    second_factor_for: str = "",
) -> WorkCount:
    """Add a counter (registering the same url_name and query again replaces it: reloads, tests)."""
    count = WorkCount(
        label=label,
        url_name=url_name,
        count_fn=count_fn,
        roles=frozenset(roles),
        query=query,
        order=order,
        tone=tone,
        second_factor_for=second_factor_for,
    )
    _counts[f"{url_name}?{query}"] = count
    return count


def work_counts_for(user) -> list[dict]:
    """The counters of the user's roles, each with its figure and link; one query per counter."""
    if not user.is_authenticated:
        return []
    rows = []
    for item in sorted(_counts.values(), key=lambda c: (c.order, str(c.label))):
        if not item.visible_to(user.roles):
            continue
        figure = item.count_fn(actor=user)
        if figure is None:
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        rows.append(
            {
                "label": item.label,
                "count": figure,
                "url": f"{url}?{item.query}" if item.query else url,
                "tone": item.tone if figure else "",
                "second_factor_for": item.second_factor_for,
            }
        )
    return rows
