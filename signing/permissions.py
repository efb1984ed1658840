"""Who may do what with signature requests: one policy for pages, downloads, API and admin.

- The sender's side (status, history, evidence, signed PDF): the sending broker, the firm
  managers of the firm the request was sent from, and back-office staff (not drafts).
- The client's side (read, ask for a code, sign, decline): only the addressed client, and
  only once the request was sent.
- Writing requests: intermediaries and firm managers, to the people their address book holds.
- Handling signed requests (processed / returned): back-office staff.
- Checking a signed PDF: back-office staff, compliance and other staff.

Anything outside this policy does not exist for the actor (404).
"""

from django.db.models import Q, QuerySet

from portal.accounts.roles import Role

BROKER_ROLES = (Role.INTERMEDIARY, Role.FIRM_MANAGER)


def sender_scope(actor) -> Q | None:
    """The filter for the requests whose status `actor` may follow; None means all of them."""
    if not actor.is_authenticated:
        return Q(pk__in=[])
    scope = Q(pk__in=[])
    if actor.has_role(Role.BACKOFFICE):
        scope |= ~Q(status="draft")
    if actor.has_role(*BROKER_ROLES):
        scope |= Q(sender=actor)
    if actor.has_role(Role.FIRM_MANAGER) and actor.organisation_id:
        scope |= Q(organisation_id=actor.organisation_id)
    return scope


def restrict_sender_side(queryset: QuerySet, actor) -> QuerySet:
    scope = sender_scope(actor)
    return queryset if scope is None else queryset.filter(scope)


def restrict_client_side(queryset: QuerySet, actor) -> QuerySet:
    if not actor.is_authenticated:
        return queryset.none()
    return queryset.filter(recipient=actor).exclude(status="draft")


def can_write_requests(actor) -> bool:
    return actor.is_authenticated and actor.has_role(*BROKER_ROLES)


def can_change(actor, request) -> bool:
    """The sender, or a manager of the sender's firm, may change, send or cancel the request."""
    if not can_write_requests(actor):
        return False
    if request.sender_id == actor.pk:
        return True
    return (
        actor.has_role(Role.FIRM_MANAGER)
        and actor.organisation_id is not None
        and request.organisation_id == actor.organisation_id
    )


def can_handle(actor) -> bool:
    """Back-office staff mark signed requests processed or returned."""
    return actor.is_authenticated and actor.has_role(Role.BACKOFFICE)


def can_verify_pdfs(actor) -> bool:
    return actor.is_authenticated and (actor.is_staff or actor.has_role(Role.BACKOFFICE, Role.COMPLIANCE))
