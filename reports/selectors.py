from datetime import date

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from clients.models import Client
from clients.selectors import client_rows
from intermediaries.models import Portfolio

from .models import CLIENT_KINDS, Report

CLIENT_SEARCH_LIMIT = 10


def report_list(*, actor) -> QuerySet[Report]:
    return (
        Report.objects.restrict(actor).select_related("client", "broker", "requested_by").order_by("-created_at", "-id")
    )


def access_report(*, actor, report_id) -> Report:
    try:
        return report_list(actor=actor).get(pk=report_id)
    except (Report.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


# --- the client's statements ------------------------------------------------------------------


def _ready_statements() -> QuerySet[Report]:
    return Report.objects.filter(kind__in=CLIENT_KINDS, status=Report.Status.READY)


def statement_list_of(*, client) -> list[Report]:
    """A client's ready statements, newest period first; of several for one kind and period (a
    broker asked again after a correction) only the latest counts. `client` is one that
    `clients.zone.zone_client` or an access check returned."""
    latest: dict[tuple, Report] = {}
    for report in _ready_statements().filter(client=client).order_by("-period_end", "-period_start", "kind", "-id"):
        latest.setdefault((report.kind, report.period_start, report.period_end), report)
    return list(latest.values())


def access_statement(*, actor, report_id) -> Report:
    """A ready client statement the actor may download as the client's document, else 404."""
    try:
        return _ready_statements().restrict(actor, "document").select_related("client").get(pk=int(report_id))
    except (Report.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


# --- picking a client on the report form ------------------------------------------------------


def report_client_search(*, actor, query: str, limit: int = CLIENT_SEARCH_LIMIT) -> list[Client]:
    """The actor's clients whose number is the query, or whose name or number holds every word of it.

    At most `limit` + 1 rows, so the caller can tell that there are more; an exact client number
    comes first.
    """
    words = query.split()
    if not words:
        return []
    clients = client_rows(actor=actor)
    match = Q()
    for word in words[:5]:
        match &= Q(number__icontains=word) | Q(first_name__icontains=word) | Q(last_name__icontains=word)
    exact = list(clients.filter(number__iexact=query.strip())[:1])
    found = list(
        clients.filter(match)
        .exclude(pk__in=[c.pk for c in exact])
        .order_by("last_name", "first_name", "number")[: limit + 1 - len(exact)]
    )
    return exact + found


# --- the schedule (system reads: no actor) -----------------------------------------------------


def clients_due_statement(*, kind: str, period_start: date, period_end: date) -> QuerySet[Client]:
    """Clients who had a portfolio in the period and have no statement of this kind for it yet.

    A portfolio counts when it was opened by the period's end and is still open or was last valued
    on or after the period's start. A statement "exists" when one was issued on schedule (whatever
    became of it: a failed one is for back office to look at, not to issue again every hour) or one
    requested by someone is ready or on its way.
    """
    had_portfolio = Portfolio.objects.filter(client=OuterRef("pk"), opened_on__lte=period_end).filter(
        Q(status=Portfolio.Status.OPEN) | Q(valued_on__gte=period_start)
    )
    has_statement = Report.objects.filter(
        client=OuterRef("pk"), kind=kind, period_start=period_start, period_end=period_end
    ).filter(Q(requested_by__isnull=True) | ~Q(status=Report.Status.FAILED))
    return Client.objects.filter(Exists(had_portfolio)).exclude(Exists(has_statement)).order_by("pk")
