"""One list and export path for every page: the list's FilterSet, a page of rows, a streamed CSV.

A list page and its export take the same FilterSet as the API (each app's `filters.py`):

    listing = list_page(request, ClientFilter, clients, per_page=25, actor=request.user)
    render(request, "…", {**listing.context, …}, status=listing.status)

    export = filtered(request, ClientFilter, clients, actor=request.user)
    if not export.is_valid():
        return filter_error_response(export)
    return csv_response(filename="clients.csv", header=[…], rows=(… for row in export.qs.iterator()))

A bad filter is the same clear error on both: the page answers 400 with the form's messages
beside the fields and no rows; the export answers 400 with the same messages in the portal's
JSON error body (portal.core.errors).
"""

import csv
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.http import StreamingHttpResponse
from django.utils.translation import gettext as _

from .errors import error_json_response, form_error_details


def filtered(request, filterset_class, queryset, **filterset_kwargs):
    """The list's FilterSet bound to the request's query (validated by the caller)."""
    return filterset_class(request.GET, queryset=queryset, **filterset_kwargs)


@dataclass
class Listing:
    filter: object
    page: Page
    query: object  # the query string without the page number, for the page links
    status: int

    @property
    def context(self) -> dict:
        return {"filter": self.filter, "page": self.page, "query": self.query}


def list_page(request, filterset_class, queryset, *, per_page: int, ordering=None, **filterset_kwargs) -> Listing:
    """Filter (nothing shown for a bad filter), order and paginate a list for a page or its htmx rows."""
    filterset = filtered(request, filterset_class, queryset, **filterset_kwargs) if filterset_class else None
    valid = filterset is None or filterset.is_valid()
    rows = (filterset.qs if filterset is not None else queryset) if valid else queryset.none()
    if ordering and not request.GET.get("ordering"):
        rows = rows.order_by(*ordering)
    return Listing(filter=filterset, status=200 if valid else 400, **page_of(request, rows, per_page=per_page))


def page_of(request, rows, *, per_page: int) -> dict:
    """One page of `rows` (a bad or too large page number gives the nearest page) and the query for its links."""
    page = Paginator(rows, per_page).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return {"page": page, "query": query}


def filter_error_response(filterset):
    """An export's answer to a bad filter: 400 with the form's messages, in the portal's error body."""
    return error_json_response(
        code="invalid",
        message=_("The filter has invalid values."),
        status=400,
        details=form_error_details(filterset),
    )


class _Echo:
    """csv.writer writes into this and gets the line back, so rows stream without a buffer."""

    def write(self, value):
        return value


def csv_response(*, filename: str, header: list, rows) -> StreamingHttpResponse:
    """A CSV download streamed row by row (exports of any size in constant memory)."""
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def plain_number(number) -> str:
    """Decimals as a spreadsheet reads them: 20.5, not 20.50000000 or 0E-8."""
    return format(number.normalize(), "f") if number else "0"
