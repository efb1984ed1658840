"""Who may request which report, and whose reports one sees: the one policy for pages, API and admin.

- A broker or firm manager requests client reports for the clients the client policy lets them see,
  and the inducements disclosure for themselves.
- Back office and compliance request any report for any firm: any client, any broker.
- view (a report, its status and its PDF on the reports page and API): everyone sees the reports
  they requested; back office and compliance see all.
- document (a client report as the client's document, downloaded from the client zone): the client
  their own; a broker or firm manager those of the clients the client policy lets them see; back
  office and compliance all. Which reports are documents at all (kind, ready) is the selectors' filter.
"""

from django.db.models import Q

from clients.selectors import client_list
from portal.accounts.roles import BROKER_ROLES, OVERSIGHT_ROLES
from portal.core.policy import ALL, Policy, register_policy

from .models import Report

REQUESTER_ROLES = (*BROKER_ROLES, *OVERSIGHT_ROLES)


def can_request_reports(actor) -> bool:
    return bool(actor.is_authenticated and actor.is_active and actor.has_role(*REQUESTER_ROLES))


def for_any_firm(actor) -> bool:
    return actor.has_role(*OVERSIGHT_ROLES)


class ReportPolicy(Policy):
    model = Report
    actions = ("view", "document")

    def scope(self, actor, action):
        if for_any_firm(actor):
            return ALL
        if action == "document":
            # The client policy decides whose clients: an end client's own record, a broker's book.
            return Q(client__in=client_list(actor=actor).values_list("pk", flat=True))
        return Q(requested_by_id=actor.pk)


reports = register_policy(ReportPolicy())


def may_disclose_for(actor, broker) -> bool:
    """Whose inducements the actor may put into a disclosure."""
    if broker is None or not broker.has_role(*BROKER_ROLES):
        return False
    return for_any_firm(actor) or broker.pk == actor.pk
