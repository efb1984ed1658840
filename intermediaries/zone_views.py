"""The client zone's portfolio pages: positions on any day, transactions, performance, and their exports.

Each view starts from `clients.zone.zone_client(request.user)`: the client is the signed-in
person's own record, never an id from the URL, and anyone without one (a broker, back office)
gets 404. A portfolio id in the URL is looked up among that client's portfolios only.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from clients.zone import zone_client
from portal.core.lists import list_page

from . import exports, selectors, zone_selectors
from .charts import line_chart, period_bars
from .filters import ZoneTransactionFilter
from .forms import CUSTOM_PERIOD, PerformanceRangeForm, PositionsDateForm

TRANSACTIONS_PER_PAGE = 50
DEFAULT_PERIOD = "YTD"
# The periods offered as buttons; the table lists every period the selector computes.
PERIOD_BUTTONS = ("1M", "YTD", "1Y", "3Y", "MAX")


@login_required
@require_GET
def positions(request, portfolio_id=None):
    client = zone_client(request.user)
    portfolio = zone_selectors.zone_portfolio(client=client, portfolio_id=portfolio_id) if portfolio_id else None
    span = zone_selectors.valuation_span_of(client=client)
    form = PositionsDateForm(request.GET, opened=span["opened"], latest=span["latest"])
    status, holdings = 200, None
    if form.is_valid():
        holdings = zone_selectors.holdings_of(client=client, on=form.cleaned_data["date"], portfolio=portfolio)
    else:
        status = 400
    return render(
        request,
        "intermediaries/zone/positions.html",
        {
            "client": client,
            "portfolio": portfolio,
            "span": span,
            "form": form,
            "holdings": holdings,
            "day": holdings.day if holdings else span["latest"],
            "tab": "positions",
        },
        status=status,
    )


@login_required
@require_GET
def positions_export(request, fmt):
    client = zone_client(request.user)
    return exports.positions_export(request, client=client, fmt=_format(fmt))


@login_required
@require_GET
def transactions(request):
    client = zone_client(request.user)
    listing = list_page(
        request,
        ZoneTransactionFilter,
        selectors.transactions_of(client=client).order_by("-trade_date", "-id"),
        per_page=TRANSACTIONS_PER_PAGE,
        client=client,
    )
    template = (
        "intermediaries/zone/partials/_transaction_rows.html"
        if request.htmx
        else "intermediaries/zone/transactions.html"
    )
    return render(
        request, template, {"client": client, "tab": "transactions", **listing.context}, status=listing.status
    )


@login_required
@require_GET
def transactions_export(request, fmt):
    client = zone_client(request.user)
    return exports.transactions_export(
        request,
        client=client,
        filterset_class=ZoneTransactionFilter,
        fmt=_format(fmt),
        filterset_kwargs={"client": client},
    )


@login_required
@require_GET
def performance(request):
    client = zone_client(request.user)
    form = PerformanceRangeForm(request.GET, periods=selectors.PERIODS, default=DEFAULT_PERIOD)
    context = {"client": client, "form": form, "tab": "performance", "period_buttons": PERIOD_BUTTONS}
    if not form.is_valid():
        context["overview"] = selectors.performance_overview_of(client=client)
        return render(request, "intermediaries/zone/performance.html", _with_charts(context), status=400)
    data = form.cleaned_data
    if data["period"] == CUSTOM_PERIOD:
        chosen = zone_selectors.performance_range_of(client=client, start=data["start"], end=data["end"])
    else:
        chosen = zone_selectors.performance_range_of(client=client, period=data["period"])
    figures = chosen["figures"]
    context.update(
        overview=chosen["overview"],
        figures=figures,
        period=chosen["period"] or CUSTOM_PERIOD,
        start=chosen["start"] if figures is None else figures["start"],
        end=chosen["end"] if figures is None else figures["end"],
        flag_texts=zone_selectors.flag_texts(figures["flags"]) if figures else [],
        range_chart=line_chart(
            [(p["date"].isoformat(), float(p["cumulative_return"])) for p in figures["series"]] if figures else [],
            _("Cumulative time-weighted return"),
        ),
    )
    return render(request, "intermediaries/zone/performance.html", _with_charts(context))


def _with_charts(context: dict) -> dict:
    context["period_chart"] = period_bars(context["overview"]["periods"])
    return context


def _format(fmt: str) -> str:
    if fmt not in exports.FORMATS:
        raise Http404
    return fmt
