"""Who may see and share which client: the one policy for pages, exports, API, admin and tasks.

view:
- back-office staff and compliance: every client
- a firm manager: every client whose advisor works for the manager's firm
- an intermediary: the clients assigned to them, and those shared with them by object permission
- an end client: their own record
- anyone else: nothing

share (let another broker of the firm see a client): the firm manager of the client's advisor.

edit_contact (address, contact e-mail and phone from the profile), export ("download my data"): the
end client, for their own record.

Data exports (DataExportPolicy): only the user who asked for one sees and downloads it; not even
back office (the file holds everything about the person).
"""

from django.core.cache import cache
from django.db.models import Q

from portal.accounts.roles import OVERSIGHT_ROLES, Role
from portal.core.cache import cached_until_changed, forget
from portal.core.policy import ALL, NOTHING, Policy, register_policy

from .models import Client, ClientUserObjectPermission, DataExport

VIEW_CLIENT = "view_client"
SHARED_TIMEOUT = 3600


class ClientPolicy(Policy):
    model = Client
    actions = ("view", "share", "edit_contact", "export")

    def scope(self, actor, action):
        if action in ("edit_contact", "export"):
            return Q(user=actor) if actor.has_role(Role.CLIENT) else NOTHING
        if action == "share":
            firm = actor.managed_firm_id
            return Q(advisor__organisation_id=firm) if firm else NOTHING
        if actor.has_role(*OVERSIGHT_ROLES):
            return ALL
        scope = NOTHING
        if actor.managed_firm_id:
            scope |= Q(advisor__organisation_id=actor.managed_firm_id)
        if actor.has_role(Role.INTERMEDIARY):
            # The few shared ids as a list: "advisor = x OR id IN (1, 2)" lets PostgreSQL combine two
            # index scans, where a subquery in the OR would make it scan every client. Fetched only
            # when used: deciding on a broker's own client needs no shares.
            scope |= Q(advisor=actor) | Q(pk__in=SharedClients(actor))
        if actor.has_role(Role.CLIENT):
            scope |= Q(user=actor)
        return scope


clients = register_policy(ClientPolicy())


class DataExportPolicy(Policy):
    model = DataExport
    actions = ("view", "download")

    def scope(self, actor, action):
        return Q(user=actor)


data_exports = register_policy(DataExportPolicy())


class SharedClients:
    """The clients shared with a broker, read when first iterated (`pk__in` of the policy's filter)."""

    def __init__(self, actor):
        self.actor = actor
        self._ids = None

    def __iter__(self):
        if self._ids is None:
            self._ids = shared_client_ids(self.actor)
        return iter(self._ids)

    def __len__(self):
        return len(list(iter(self)))


def shared_client_ids(actor) -> list[int]:
    """The clients shared with this broker, kept in the cache until a share of theirs changes."""
    return cached_until_changed(
        cache,
        _shared_key(actor.pk),
        lambda: list(
            ClientUserObjectPermission.objects.filter(user=actor, permission__codename=VIEW_CLIENT)
            .order_by("content_object_id")
            .values_list("content_object_id", flat=True)
        ),
        timeout=SHARED_TIMEOUT,
    )


def shares_changed(sender, instance, **kwargs) -> None:
    """Receiver for a share granted or withdrawn (by the services, admin or guardian)."""
    forget(cache, _shared_key(instance.user_id))


def _shared_key(user_id) -> str:
    return f"clients:shared-with:{user_id}"
