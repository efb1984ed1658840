"""Commission pages: months, one statement with its breakdown and entries, an entry's source.

Every view fetches through the selectors, which apply the policy; a statement or entry that is
not the actor's to see does not exist for them (404), on pages, exports and PDFs alike.
"""

from django.http import FileResponse, Http404
from django.shortcuts import render
from django.utils.translation import gettext as _

from portal.approvals.selectors import approvals_of
from portal.core.decorators import role_required
from portal.core.files import stored_file_response
from portal.core.lists import csv_response, filter_error_response, filtered, list_page, plain_number

from . import selectors
from .filters import AccrualFilter, StatementFilter
from .permissions import READER_ROLES, firm_seen, sees_everything
from .templatetags.commissions_status import status_label


@role_required(*READER_ROLES)
def statement_list_view(request):
    listing = list_page(
        request, StatementFilter, selectors.statement_list(actor=request.user), per_page=24, actor=request.user
    )
    valid = listing.status == 200
    return render(
        request,
        "commissions/statement_list.html",
        {
            **listing.context,
            "firm": selectors.statement_list_title_firm(actor=request.user),
            "shows_people": sees_everything(request.user) or bool(firm_seen(request.user)),
            "sees_all": sees_everything(request.user),
            "people": selectors.statement_people(actor=request.user),
            "totals": selectors.statement_totals(statements=listing.filter.qs) if valid else [],
        },
        status=listing.status,
    )


@role_required(*READER_ROLES)
def statement_list_export(request):
    """The list's rows as CSV, filtered exactly like the page (the same FilterSet)."""
    export = filtered(request, StatementFilter, selectors.statement_list(actor=request.user), actor=request.user)
    if not export.is_valid():
        return filter_error_response(export)
    sees_all = sees_everything(request.user)
    header = [
        _("Month"),
        _("Person"),
        _("E-mail"),
        _("Firm"),
        _("Upfront"),
        _("Trailing"),
        _("Fixed"),
        _("Override"),
        _("Total"),
        _("Currency"),
        _("Payout status"),
        _("Entries"),
    ]
    return csv_response(
        filename="commissions.csv",
        header=header,
        rows=(
            [
                f"{s.period:%Y-%m}",
                s.beneficiary.get_full_name() or s.beneficiary.email,
                s.beneficiary.email,
                s.firm.name if s.firm else "",
                plain_number(s.upfront),
                plain_number(s.trailing),
                plain_number(s.fixed),
                plain_number(s.override),
                plain_number(s.total),
                s.currency,
                status_label(s, sees_all),
                s.accrual_count,
            ]
            for s in export.qs.iterator(chunk_size=2000)
        ),
    )


@role_required(*READER_ROLES)
def statement_detail(request, statement_id):
    statement = selectors.access_statement(actor=request.user, statement_id=statement_id)
    listing = list_page(request, AccrualFilter, selectors.accruals_of(statement=statement), per_page=50)
    sees_all = sees_everything(request.user)
    context = {
        "statement": statement,
        "breakdown": selectors.statement_breakdown(statement=statement),
        "sees_all": sees_all,
        # Back office sees the statement's approvals and their reasons; the beneficiary does not.
        "approvals": approvals_of(statement) if sees_all and not request.htmx else [],
        **listing.context,
    }
    if request.htmx:
        return render(request, "commissions/partials/_accrual_rows.html", context, status=listing.status)
    return render(request, "commissions/statement_detail.html", context, status=listing.status)


@role_required(*READER_ROLES)
def accrual_detail(request, accrual_id):
    accrual = selectors.access_accrual(actor=request.user, accrual_id=accrual_id)
    return render(request, "commissions/accrual_detail.html", {"accrual": accrual})


@role_required(*READER_ROLES)
def statement_export(request, statement_id):
    statement = selectors.access_statement(actor=request.user, statement_id=statement_id)
    filterset = filtered(request, AccrualFilter, selectors.accruals_of(statement=statement))
    if not filterset.is_valid():
        return filter_error_response(filterset)
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
    return csv_response(
        filename=f"commissions-{statement.period:%Y-%m}.csv",
        header=header,
        rows=(
            [
                a.date.isoformat(),
                a.days,
                a.get_kind_display(),
                a.client.number,
                a.client.name,
                a.portfolio.number,
                a.instrument.name if a.instrument else "",
                a.get_asset_class_display(),
                plain_number(a.basis),
                plain_number(a.rate) if a.rate is not None else "",
                plain_number(a.amount),
                a.source_key,
            ]
            for a in filterset.qs.iterator(chunk_size=2000)
        ),
    )


@role_required(*READER_ROLES)
def statement_pdf(request, statement_id):
    statement = selectors.access_statement(actor=request.user, statement_id=statement_id)
    if not statement.pdf:
        raise Http404
    return _pdf_response(statement)


def _pdf_response(statement) -> FileResponse:
    return stored_file_response(statement.pdf, filename=f"commission-statement-{statement.period:%Y-%m}.pdf")
