"""Navigation contributed by each app, so that `portal` never imports the apps above it.

An app registers its menu entries (and, optionally, the home page of a role) in its
AppConfig.ready(); the base template shows the entries the user's roles allow.
"""

import functools
from dataclasses import dataclass, field

from django.conf import settings
from django.core.signals import setting_changed
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language


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
    # Other pages under this entry (a detail page under its list): the entry is highlighted there too.
    active_for: frozenset = field(default_factory=frozenset)

    def visible_to(self, roles: frozenset, is_staff: bool) -> bool:
        if self.staff_only and not is_staff:
            return False
        if self.setting and not getattr(settings, self.setting, False):
            return False
        return not self.roles or bool(self.roles & roles)


_items: dict[str, NavItem] = {}
_role_homes: dict[str, str] = {}


def register(*items: NavItem) -> None:
    for item in items:
        _items[item.url_name] = item
    _menu.cache_clear()


def unregister(url_name: str) -> None:
    """Remove an entry (a registry whose entry depends on what was registered into it)."""
    _items.pop(url_name, None)
    _menu.cache_clear()


def register_role_home(role: str, url_name: str) -> None:
    """Make `url_name` the page a user of this role lands on after login."""
    _role_homes[role] = url_name
    _menu.cache_clear()


def role_home_url(role: str | None) -> str:
    if role in _role_homes:
        return reverse(_role_homes[role])
    if role:
        return reverse("shell:role-home", kwargs={"role": role})
    return reverse("shell:welcome")


def items_for(user) -> tuple[dict, ...]:
    """The menu entries for `user`: the same for everyone with the same roles, so built once."""
    if not user.is_authenticated:
        return ()
    return items_for_roles(user.roles, is_staff=user.is_staff, primary_role=user.primary_role)


def items_for_roles(roles: frozenset, *, is_staff: bool, primary_role) -> tuple[dict, ...]:
    """The menu entries for whoever holds these roles, in the active language and URL configuration."""
    return _menu(
        roles, is_staff, primary_role, get_language(), get_urlconf() or settings.ROOT_URLCONF, get_script_prefix()
    )


@functools.lru_cache(maxsize=256)
def _menu(roles: frozenset, is_staff: bool, primary_role, language, urlconf: str, script_prefix: str):
    # The language orders entries of equal rank by label; urlconf and prefix are in the key
    # because the URLs are reversed here.
    entries = []
    for item in sorted(_items.values(), key=lambda i: (i.order, str(i.label))):
        if not item.visible_to(roles, is_staff):
            continue
        if item.only_without_role_home and primary_role in _role_homes:
            continue
        try:
            url = reverse(item.url_name, urlconf=urlconf)
        except NoReverseMatch:
            continue
        active = frozenset({item.url_name, *item.active_for})
        entries.append({"label": item.label, "url": url, "url_name": item.url_name, "active_for": active})
    return tuple(entries)


def _forget_menus(**kwargs) -> None:
    # A settings flag can hide an entry (tests change settings; production does not).
    _menu.cache_clear()


setting_changed.connect(_forget_menus)
