"""Who may see which client: one policy, used by pages, exports, API and admin.

- back-office staff and compliance: every client
- a firm manager: every client whose advisor works for the manager's firm
- an intermediary: the clients assigned to them, and those shared with them by object permission
- an end client: their own record
- anyone else: nothing
"""

from django.db.models import Q, QuerySet

from portal.accounts.roles import Role

VIEW_CLIENT = "view_client"


def client_scope(actor) -> Q | None:
    """The filter for the clients `actor` may see; None means all of them."""
    if not actor.is_authenticated:
        return Q(pk__in=[])
    if actor.has_role(Role.BACKOFFICE, Role.COMPLIANCE):
        return None
    scope = Q(pk__in=[])
    if actor.has_role(Role.FIRM_MANAGER) and actor.organisation_id:
        scope |= Q(advisor__organisation_id=actor.organisation_id)
    if actor.has_role(Role.INTERMEDIARY):
        # The few shared ids as a list: "advisor = x OR id IN (1, 2)" lets PostgreSQL combine two
        # index scans, where a subquery in the OR would make it scan every client.
        shared = list(_shares_of(actor).values_list("content_object_id", flat=True))
        scope |= Q(advisor=actor) | Q(pk__in=shared) if shared else Q(advisor=actor)
    if actor.has_role(Role.CLIENT):
        scope |= Q(user=actor)
    return scope


def restrict(queryset: QuerySet, actor) -> QuerySet:
    scope = client_scope(actor)
    return queryset if scope is None else queryset.filter(scope)


def may_see(actor, client) -> bool:
    """`client_scope` for one client already loaded (with its advisor), as a decision.

    A detail page loads its client by key and decides here: a broker's own client needs no
    further query, only a shared one asks for the share. Same rules, same order as above;
    tests/clients/test_permissions.py checks both against every role.
    """
    if not actor.is_authenticated:
        return False
    if actor.has_role(Role.BACKOFFICE, Role.COMPLIANCE):
        return True
    if (
        actor.has_role(Role.FIRM_MANAGER)
        and actor.organisation_id
        and client.advisor is not None
        and client.advisor.organisation_id == actor.organisation_id
    ):
        return True
    if actor.has_role(Role.INTERMEDIARY) and (
        client.advisor_id == actor.pk or _shares_of(actor).filter(content_object=client).exists()
    ):
        return True
    return actor.has_role(Role.CLIENT) and client.user_id == actor.pk


def _shares_of(actor) -> QuerySet:
    """The object permissions that share clients with this broker."""
    from .models import ClientUserObjectPermission

    return ClientUserObjectPermission.objects.filter(user=actor, permission__codename=VIEW_CLIENT)


def can_manage_shares(actor, client) -> bool:
    """A firm manager shares their firm's clients among the firm's brokers."""
    return (
        actor.has_role(Role.FIRM_MANAGER)
        and actor.organisation_id is not None
        and client.advisor is not None
        and client.advisor.organisation_id == actor.organisation_id
    )
