"""What an API key may reach: resource groups, each read-only or read-write.

Every API view belongs to one resource group, named by an `api_key_scope` attribute on the view
or on one of its permission classes (a whole app's API usually shares one permission class, such
as the broker API's `IsBroker`). A key lists the groups it may use and how: "read" allows only
safe methods (GET, HEAD, OPTIONS), "write" allows everything the owner may do. A view that names
no group cannot be reached with a key at all, so a new endpoint is closed to keys until its
author decides which group it belongs to.

Apps register their groups in AppConfig.ready(), like navigation entries, so `portal` never
imports the apps above it.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

READ = "read"
WRITE = "write"
ACCESS_CHOICES = [(READ, _("Read only")), (WRITE, _("Read and write"))]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# For views any valid key may read, whatever its groups (the OpenAPI schema).
ANY_KEY_READ = "*"


@dataclass(frozen=True)
class ScopeGroup:
    key: str
    label: str
    description: str = ""
    order: int = 50


_groups: dict[str, ScopeGroup] = {}


def register_scope_group(key: str, label, *, description="", order: int = 50) -> ScopeGroup:
    """Make a resource group known (registering a key again replaces it)."""
    if not key or not key.replace("_", "").isalnum() or key != key.lower():
        raise ValueError(f"Scope group keys are lower-case words, got {key!r}.")
    group = ScopeGroup(key=key, label=label, description=description, order=order)
    _groups[key] = group
    return group


def scope_groups() -> list[ScopeGroup]:
    return sorted(_groups.values(), key=lambda g: (g.order, g.key))


def scope_group_get(key: str) -> ScopeGroup | None:
    return _groups.get(key)


def view_scope_group(view) -> str | None:
    """The resource group of a DRF view: its own `api_key_scope`, else its permission classes'."""
    group = getattr(view, "api_key_scope", None)
    if group:
        return group
    for permission in getattr(view, "permission_classes", ()):
        group = getattr(permission, "api_key_scope", None)
        if group:
            return group
    return None


def scopes_allow(scopes: dict, group: str | None, method: str) -> bool:
    """Whether a key with `scopes` may call a view of `group` with `method`."""
    if not group:
        return False
    if group == ANY_KEY_READ:
        return method.upper() in SAFE_METHODS
    access = scopes.get(group)
    if access == WRITE:
        return True
    return access == READ and method.upper() in SAFE_METHODS


def scopes_clean(scopes: dict) -> dict:
    """Only known groups with a valid access level; raises ValueError naming what is wrong."""
    cleaned = {}
    for group, access in scopes.items():
        if group not in _groups:
            raise ValueError(f"Unknown resource group: {group}")
        if access not in (READ, WRITE):
            raise ValueError(f"Unknown access level for {group}: {access}")
        cleaned[group] = access
    return dict(sorted(cleaned.items()))
