"""Commission pages: months, one statement with its breakdown and entries, an entry's source.

Every view fetches through the selectors, which apply the policy; a statement or entry that is
not the actor's to see does not exist for them (404), on pages, exports and PDFs alike.
"""

import csv

from django.core.paginator import Paginator
from django.http import FileResponse, Http404, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from portal.core.decorators import role_required
from portal.core.files import stored_file_response

from . import selectors
from .filters import AccrualFilter, StatementFilter
from .permissions import READER_ROLES, firm_seen, sees_everything


class _Echo:
    def write(self, value):
        return value


@role_required(*READER_ROLES)
def statement_list_view(request):
    statements = selectors.statement_list(actor=request.user)
    filterset = StatementFilter(request.GET, queryset=statements)
    rows = filterset.qs if filterset.is_valid() else statements.none()
    page = Paginator(rows, 24).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "commissions/statement_list.html",
        {
            "filter": filterset,
            "page": page,
            "query": query,
            "shows_people": sees_everything(request.user) or bool(firm_seen(request.user)),
            "people": selectors.statement_people(actor=request.user),
        },
    )


@role_required(*READER_ROLES)
def statement_detail(request, statement_id):
    statement = selectors.access_statement(actor=request.user, statement_id=statement_id)
    accruals = selectors.accruals_of(statement=statement)
    filterset = AccrualFilter(request.GET, queryset=accruals)
    rows = filterset.qs if filterset.is_valid() else accruals.none()
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "statement": statement,
        "breakdown": selectors.statement_breakdown(statement=statement),
        "filter": filterset,
        "page": page,
        "query": query,
    }
    if request.htmx:
        return render(request, "commissions/partials/_accrual_rows.html", context)
    return render(request, "commissions/statement_detail.html", context)


@role_required(*READER_ROLES)
def accrual_detail(request, accrual_id):
    accrual = selectors.access_accrual(actor=request.user, accrual_id=accrual_id)
    return render(request, "commissions/accrual_detail.html", {"accrual": accrual})


@role_required(*READER_ROLES)
def statement_export(request, statement_id):
    statement = selectors.access_statement(actor=request.user, statement_id=statement_id)
    accruals = selectors.accruals_of(statement=statement)
    filterset = AccrualFilter(request.GET, queryset=accruals)
    if not filterset.is_valid():
        return JsonResponse({"error": {"code": "invalid", "details": filterset.errors}}, status=400)
    header = [
        _("Date"),
        _("Days"),
        _("Kind"),
        _("Client number"),
        _("Client"),
        _("Portfolio"),
        _("Product"),
        _("Asset class"),
        _("Basis (EUR)"),
        _("Rate"),
        _("Amount (EUR)"),
        _("Source"),
    ]
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow(header)
        for a in filterset.qs.iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    a.date.isoformat(),
                    a.days,
                    a.get_kind_display(),
                    a.client.number,
                    a.client.name,
                    a.portfolio.number,
                    a.instrument.name if a.instrument else "",
                    a.get_asset_class_display(),
                    _plain(a.basis),
                    _plain(a.rate) if a.rate is not None else "",
                    _plain(a.amount),
                    a.source_key,
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="commissions-{statement.period:%Y-%m}.csv"'
    return response


@role_required(*READER_ROLES)
def statement_pdf(request, statement_id):
    statement = selectors.access_statement(actor=request.user, statement_id=statement_id)
    if not statement.pdf:
        raise Http404
    return _pdf_response(statement)


def _pdf_response(statement) -> FileResponse:
    return stored_file_response(statement.pdf, filename=f"commission-statement-{statement.period:%Y-%m}.pdf")


def _plain(number) -> str:
    return format(number.normalize(), "f") if number else "0"
