"""Navigation contributed by each app, so that `portal` never imports the apps above it.

An app registers its menu entries (and, optionally, the home page of a role) in its
AppConfig.ready(); the base template shows the entries the user's roles allow.
"""

from dataclasses import dataclass, field

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    # Empty means every logged-in user; otherwise any one of these roles.
    roles: frozenset = field(default_factory=frozenset)
    order: int = 50
    staff_only: bool = False
    setting: str = ""  # a settings flag that must be true for the entry to show
    # For the generic home entry: hidden once an app gives the user's role a home of its own.
    only_without_role_home: bool = False

    def visible_to(self, user) -> bool:
        if self.staff_only and not user.is_staff:
            return False
        if self.setting:
            from django.conf import settings

            if not getattr(settings, self.setting, False):
                return False
        return not self.roles or user.has_role(*self.roles)


_items: dict[str, NavItem] = {}
_role_homes: dict[str, str] = {}


def register(*items: NavItem) -> None:
    for item in items:
        _items[item.url_name] = item


def register_role_home(role: str, url_name: str) -> None:
    """Make `url_name` the page a user of this role lands on after login."""
    _role_homes[role] = url_name


def role_home_url(role: str | None) -> str:
    if role in _role_homes:
        return reverse(_role_homes[role])
    if role:
        return reverse("core:role-home", kwargs={"role": role})
    return reverse("core:welcome")


def items_for(user) -> list[dict]:
    if not user.is_authenticated:
        return []
    entries = []
    for item in sorted(_items.values(), key=lambda i: (i.order, str(i.label))):
        if not item.visible_to(user):
            continue
        if item.only_without_role_home and user.primary_role in _role_homes:
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        entries.append({"label": item.label, "url": url, "url_name": item.url_name})
    return entries
