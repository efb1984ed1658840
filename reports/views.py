"""The reports page: request a report, watch its progress (htmx polling), download it; and the
download of a client's statement, for the client, their broker and back office."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from clients.selectors import access_client
from portal.core.decorators import role_required
from portal.core.files import stored_file_response
from portal.core.lists import page_of

from . import selectors, services
from .forms import ReportRequestForm
from .permissions import REQUESTER_ROLES

_FORM_FIELDS = {name: name for name in ("kind", "client", "broker", "period_start", "period_end")}


def _initial_client(request):
    """`?client=<id>` from a link (the client's page): that client, if the actor may see them."""
    client_id = request.GET.get("client")
    if not client_id:
        return None
    try:
        return access_client(actor=request.user, client_id=client_id)
    except Http404:
        return None  # not one of yours: the form starts empty, as without the parameter


def _page(request, form=None, status=200):
    listing = page_of(request, selectors.report_list(actor=request.user), per_page=20)
    context = {
        **listing,
        "form": form or ReportRequestForm(actor=request.user, initial_client=_initial_client(request)),
        "polling": any(r.pending for r in listing["page"]),
    }
    if request.htmx and request.method == "GET":
        return render(request, "reports/partials/_report_rows.html", context)
    return render(request, "reports/report_list.html", context, status=status)


@role_required(*REQUESTER_ROLES)
def report_list_view(request):
    return _page(request)


@require_POST
@role_required(*REQUESTER_ROLES)
def report_request_view(request):
    if request.POST.get("action") == "search":
        # The picker's search button (without JavaScript): the form again as it was filled in, with
        # the clients found to choose from; nothing is checked or requested yet.
        fields = ("kind", "client", "client_q", "broker", "period_start", "period_end")
        initial = {name: request.POST[name] for name in fields if request.POST.get(name)}
        return _page(request, form=ReportRequestForm(actor=request.user, initial=initial))
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


@require_GET
@role_required(*REQUESTER_ROLES)
def report_client_search(request):
    """The picker's choices for what was typed so far (htmx): the actor's own clients only."""
    form = ReportRequestForm(request.GET, actor=request.user)
    return render(request, "reports/partials/_client_choices.html", {"form": form})


@login_required
def statement_download(request, report_id):
    """A client's statement as their document: the client's own, a broker's clients', any for back office."""
    report = selectors.access_statement(actor=request.user, report_id=report_id)
    services.statement_mark_downloaded(actor=request.user, report=report)
    return stored_file_response(report.file, filename=report.download_name)
