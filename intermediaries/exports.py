"""A client's positions and transactions as CSV and PDF: the one export path for brokers and clients.

The broker's client page and the client zone differ only in how they reach the client (the
client policy, or `zone_client`) and which FilterSet they bind; what they download is built here.
CSV streams through `portal.core.lists.csv_response`; PDF is rendered by WeasyPrint through
`portal.pdf`, which fetches nothing.
"""

from decimal import Decimal

from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from portal.core.errors import error_json_response, form_error_details
from portal.core.lists import csv_response, filter_error_response, filtered, plain_number
from portal.pdf import pdf_from_html

from . import selectors, zone_selectors
from .forms import PositionsDateForm

# A PDF of more rows than this takes long to render on the request path; CSV has no limit.
PDF_MAX_TRANSACTIONS = 2000
FORMATS = ("csv", "pdf")
CENT = Decimal("0.01")


def transactions_export(request, *, client, filterset_class, fmt: str, filterset_kwargs: dict | None = None):
    """The client's transactions under the request's filter, as CSV or PDF; a bad filter is a 400."""
    filterset = filtered(request, filterset_class, selectors.transactions_of(client=client), **(filterset_kwargs or {}))
    if not filterset.is_valid():
        return filter_error_response(filterset)
    rows = filterset.qs.order_by("-trade_date", "-id")
    if fmt == "pdf":
        return _transactions_pdf(client, rows, filterset)
    return _transactions_csv(client, rows)


def positions_export(request, *, client, fmt: str):
    """The client's positions on the requested day (`?date=`, default the latest valuation), as CSV or PDF."""
    span = zone_selectors.valuation_span_of(client=client)
    form = PositionsDateForm(request.GET, opened=span["opened"], latest=span["latest"])
    if not form.is_valid():
        return error_json_response(
            code="invalid", message=_("The date is not valid."), status=400, details=form_error_details(form)
        )
    holdings = zone_selectors.holdings_of(client=client, on=form.cleaned_data["date"])
    if fmt == "pdf":
        return _positions_pdf(client, holdings)
    return _positions_csv(client, holdings)


def _day(day) -> str:
    return day.isoformat() if day else ""


def _transactions_csv(client, rows):
    header = [
        _("Date"),
        _("Portfolio"),
        _("Type"),
        _("ISIN"),
        _("Instrument"),
        _("Quantity"),
        _("Price"),
        _("Amount"),
        _("Currency"),
    ]
    return csv_response(
        filename=f"transactions-{client.number}.csv",
        header=header,
        rows=(
            [
                t.trade_date.isoformat(),
                t.portfolio.number,
                t.get_type_display(),
                t.instrument.isin if t.instrument else "",
                t.instrument.name if t.instrument else "",
                plain_number(t.quantity),
                plain_number(t.price),
                t.amount,
                t.currency,
            ]
            for t in rows.iterator(chunk_size=2000)
        ),
    )


def _positions_csv(client, holdings):
    header = [
        _("Date"),
        _("Portfolio"),
        _("ISIN"),
        _("Instrument"),
        _("Asset class"),
        _("Quantity"),
        _("Price"),
        _("Price currency"),
        _("Price date"),
        _("Market value"),
        _("Cost"),
        _("Unrealised gain"),
        _("Unrealised gain %"),
        _("Weight %"),
        _("Currency"),
    ]

    def rows():
        for p in holdings.positions:
            yield [
                _day(holdings.day),
                p.portfolio.number,
                p.instrument.isin,
                p.instrument.name,
                p.instrument.get_asset_class_display(),
                plain_number(p.quantity),
                plain_number(p.price) if p.price is not None else "",
                p.instrument.currency,
                _day(p.price_date),
                _cents(p.market_value),
                _cents(p.cost),
                _cents(p.unrealised),
                _percent(p.unrealised_pct),
                _percent(p.weight),
                p.portfolio.currency,
            ]

    return csv_response(filename=f"positions-{client.number}-{_day(holdings.day)}.csv", header=header, rows=rows())


def _cents(amount) -> str:
    return str(amount.quantize(CENT))


def _percent(ratio) -> str:
    return "" if ratio is None else str((ratio * 100).quantize(CENT))


def _pdf_response(html: str, filename: str) -> HttpResponse:
    response = HttpResponse(pdf_from_html(html), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _positions_pdf(client, holdings):
    html = render_to_string(
        "intermediaries/pdf/positions.html",
        {"client": client, "holdings": holdings, "rendered_at": timezone.localtime()},
    )
    return _pdf_response(html, f"positions-{client.number}-{_day(holdings.day)}.pdf")


def _transactions_pdf(client, rows, filterset):
    count = rows.count()
    if count > PDF_MAX_TRANSACTIONS:
        return error_json_response(
            code="too_many_rows",
            message=_(
                "%(count)s transactions are too many for one PDF (at most %(limit)s): narrow the filter, or export CSV."
            )
            % {"count": count, "limit": PDF_MAX_TRANSACTIONS},
            status=400,
        )
    html = render_to_string(
        "intermediaries/pdf/transactions.html",
        {
            "client": client,
            "transactions": rows,
            "filters": _filter_summary(filterset),
            "rendered_at": timezone.localtime(),
        },
    )
    return _pdf_response(html, f"transactions-{client.number}.pdf")


def _filter_summary(filterset) -> list[tuple[str, str]]:
    """The applied filters as (label, value) pairs, printed on the PDF so a reader knows what it lists."""
    summary = []
    for name, value in filterset.form.cleaned_data.items():
        if value in (None, "", []):
            continue
        field = filterset.form.fields[name]
        if hasattr(value, "isoformat"):
            text = date_format(value, "SHORT_DATE_FORMAT")
        elif getattr(field, "choices", None) and not hasattr(field, "queryset"):
            text = str(dict(field.choices).get(value, value))
        else:
            text = str(value)
        summary.append((str(field.label), text))
    return summary
