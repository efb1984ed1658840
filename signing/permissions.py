"""Who may do what with signature requests: the one policy for pages, downloads, API and admin.

Actions on a request (`SignatureRequest.objects.restrict(actor, action)`, `requests.has(...)`):
- follow — the sender's side (status, history, evidence, signed PDF): the sending broker, the
  managers of the firm the request was sent from, and back-office staff (not drafts);
- change — change, send or cancel: the sender, or a manager of the sender's firm;
- sign — the client's side (read, ask for a code, sign, decline): only the addressed person,
  and only once the request was sent;
- read — attachments and the signed PDF: either side;
- handle — mark signed requests processed or returned: back-office staff;
- evidence — build and read the evidence pack of a signed request: back office and compliance.

Writing requests is for brokers (`can_write_requests`), to the people their address books hold,
and for service identities an app registered (`addressbook.register_writer`, BNPL's agreements);
checking a signed PDF is for staff (`can_verify_pdfs`). Anything outside this policy does not
exist for the actor (404).
"""

from django.db.models import Q

from portal.accounts.roles import BROKER_ROLES, Role
from portal.core.policy import NOTHING, Policy, register_policy

from .addressbook import is_registered_writer
from .models import SignatureRequest

DRAFT = SignatureRequest.Status.DRAFT


class SignatureRequestPolicy(Policy):
    model = SignatureRequest
    actions = ("follow", "change", "sign", "read", "handle", "evidence")

    def scope(self, actor, action):
        if action == "sign":
            return Q(recipient=actor) & ~Q(status=DRAFT)
        if action == "read":
            return self.scope(actor, "follow") | self.scope(actor, "sign")
        if action == "handle":
            return Q(status__in=SignatureRequest.SIGNED_STATES) if can_handle(actor) else NOTHING
        if action == "evidence":
            oversight = actor.has_role(Role.BACKOFFICE, Role.COMPLIANCE)
            return Q(status__in=SignatureRequest.SIGNED_STATES) if oversight else NOTHING
        scope = NOTHING
        if action == "follow" and actor.has_role(Role.BACKOFFICE):
            scope |= ~Q(status=DRAFT)
        if actor.has_role(*BROKER_ROLES):
            scope |= Q(sender=actor)
            if actor.managed_firm_id:
                scope |= Q(organisation_id=actor.managed_firm_id)
        elif is_registered_writer(actor):
            scope |= Q(sender=actor)  # an app's service identity follows what it sent, nothing else
        return scope


requests = register_policy(SignatureRequestPolicy())


def can_write_requests(actor) -> bool:
    return actor.is_authenticated and (actor.has_role(*BROKER_ROLES) or is_registered_writer(actor))


def can_handle(actor) -> bool:
    """Back-office staff mark signed requests processed or returned."""
    return actor.is_authenticated and actor.has_role(Role.BACKOFFICE)


def can_verify_pdfs(actor) -> bool:
    return actor.is_authenticated and (actor.is_staff or actor.has_role(Role.BACKOFFICE, Role.COMPLIANCE))
