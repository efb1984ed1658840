"""Who may see which client: one policy, used by pages, exports, API and admin.

- back-office staff and compliance: every client
- a firm manager: every client whose advisor works for the manager's firm
- an intermediary: the clients assigned to them, and those shared with them by object permission
- an end client: their own record
- anyone else: nothing
"""

from django.db.models import Exists, OuterRef, Q, QuerySet

from portal.accounts.roles import Role

VIEW_CLIENT = "view_client"


def client_scope(actor, *, one_client: bool = False) -> Q | None:
    """The filter for the clients `actor` may see; None means all of them.

    `one_client`: the filter will pick out a single client by its key, so the shares are checked
    inside the same query (one query instead of two) rather than read first as a list.
    """
    if not actor.is_authenticated:
        return Q(pk__in=[])
    if actor.has_role(Role.BACKOFFICE, Role.COMPLIANCE):
        return None
    scope = Q(pk__in=[])
    if actor.has_role(Role.FIRM_MANAGER) and actor.organisation_id:
        scope |= Q(advisor__organisation_id=actor.organisation_id)
    if actor.has_role(Role.INTERMEDIARY):
        from .models import ClientUserObjectPermission

        shares = ClientUserObjectPermission.objects.filter(user=actor, permission__codename=VIEW_CLIENT)
        if one_client:
            scope |= Q(advisor=actor) | Q(Exists(shares.filter(content_object=OuterRef("pk"))))
        else:
            # The few shared ids as a list: "advisor = x OR id IN (1, 2)" lets PostgreSQL combine two
            # index scans, where a subquery in the OR would make it scan every client.
            shared = list(shares.values_list("content_object_id", flat=True))
            scope |= Q(advisor=actor) | Q(pk__in=shared) if shared else Q(advisor=actor)
    if actor.has_role(Role.CLIENT):
        scope |= Q(user=actor)
    return scope


def restrict(queryset: QuerySet, actor, *, one_client: bool = False) -> QuerySet:
    scope = client_scope(actor, one_client=one_client)
    return queryset if scope is None else queryset.filter(scope)


def can_manage_shares(actor, client) -> bool:
    """A firm manager shares their firm's clients among the firm's brokers."""
    return (
        actor.has_role(Role.FIRM_MANAGER)
        and actor.organisation_id is not None
        and client.advisor is not None
        and client.advisor.organisation_id == actor.organisation_id
    )
