"""The reports page: request a report, watch its progress (htmx polling), download it."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clients.selectors import client_list
from portal.core.decorators import role_required
from portal.core.files import stored_file_response
from portal.core.lists import page_of

from . import selectors, services
from .forms import ReportRequestForm
from .models import Report
from .permissions import REQUESTER_ROLES

_FORM_FIELDS = {name: name for name in ("kind", "client", "broker", "period_start", "period_end")}


def _page(request, form=None, status=200):
    listing = page_of(request, selectors.report_list(actor=request.user), per_page=20)
    if form is None:
        form = ReportRequestForm(actor=request.user)
        _preselect_client(form, request.GET.get("client"))
    context = {
        **listing,
        "form": form,
        "polling": any(r.pending for r in listing["page"]),
    }
    if request.htmx and request.method == "GET":
        return render(request, "reports/partials/_report_rows.html", context)
    return render(request, "reports/report_list.html", context, status=status)


def _preselect_client(form, client_id) -> None:
    """`?client=<id>` (a link from the broker's client page) fills in that client, if the actor may see them."""
    try:
        client_id = int(client_id or "")
    except ValueError:
        return
    if not 0 < client_id < 2**31:
        return
    number = client_list(actor=form.actor).filter(pk=client_id).values_list("number", flat=True).first()
    if number is not None:
        form.initial.update(client=number, kind=Report.Kind.STATEMENT)


@role_required(*REQUESTER_ROLES)
def report_list_view(request):
    return _page(request)


@require_POST
@role_required(*REQUESTER_ROLES)
def report_request_view(request):
    form = ReportRequestForm(request.POST, actor=request.user)
    if form.is_valid():
        try:
            report = services.report_request(actor=request.user, **form.service_arguments())
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, errors in error.message_dict.items():
                    target = _FORM_FIELDS.get(field)
                    form.add_error(target if target in form.fields else None, errors)
            else:
                form.add_error(None, error.messages)
        else:
            messages.success(
                request,
                _("%(report)s requested; it appears below when it is ready.") % {"report": report.get_kind_display()},
            )
            return redirect("reports:report-list")
    return _page(request, form=form, status=400)


@role_required(*REQUESTER_ROLES)
def report_download(request, report_id):
    report = selectors.access_report(actor=request.user, report_id=report_id)
    if report.status != report.Status.READY:
        raise Http404
    return stored_file_response(report.file, filename=report.download_name)
