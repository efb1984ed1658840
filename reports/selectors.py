from django.db.models import QuerySet
from django.http import Http404

from . import permissions
from .models import Report


def report_list(*, actor) -> QuerySet[Report]:
    scope = permissions.report_scope(actor)
    qs = Report.objects.select_related("client", "broker", "requested_by").order_by("-created_at", "-id")
    return qs if scope is None else qs.filter(scope)


def access_report(*, actor, report_id) -> Report:
    try:
        return report_list(actor=actor).get(pk=report_id)
    except (Report.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
