from django.db.models import QuerySet
from django.http import Http404

from .models import Report


def report_list(*, actor) -> QuerySet[Report]:
    return (
        Report.objects.restrict(actor).select_related("client", "broker", "requested_by").order_by("-created_at", "-id")
    )


def access_report(*, actor, report_id) -> Report:
    try:
        return report_list(actor=actor).get(pk=report_id)
    except (Report.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
