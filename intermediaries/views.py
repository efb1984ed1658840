from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.dateparse import parse_date
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clients import services as client_services
from clients.selectors import access_client, client_may_share, client_rows, client_shares
from portal.accounts.roles import BROKER_ROLES, Role
from portal.core.decorators import role_required
from portal.core.lists import csv_response, filter_error_response, filtered, list_page
from portal.core.versioned_cache import cached_figures
from portal.shell.page import page_response
from portal.threads.panel import thread_panel_html

from . import exports, selectors, zone_selectors
from .charts import line_chart
from .filters import ClientFilter, TransactionFilter, browsing_key
from .forms import PositionsDateForm, ShareForm
from .models import AssetClass, Valuation


@role_required(*BROKER_ROLES)
def dashboard(request):
    period = request.GET.get("period", "YTD")
    if period not in selectors.PERIODS:
        period = "YTD"

    def context():
        figures = selectors.dashboard(actor=request.user, period=period)
        for row in figures["allocation"]:
            row["label"] = AssetClass(row["asset_class"]).label
        return {
            "figures": figures,
            "periods": selectors.PERIODS,
            "chart": line_chart(
                [(p["date"].isoformat(), float(p["cumulative_return"])) for p in figures["chart"]],
                _("Cumulative time-weighted return"),
            ),
        }

    if request.htmx:
        return render(request, "intermediaries/partials/_dashboard_performance.html", context())
    body = _cached_html(
        "dashboard-html",
        selectors.dashboard_key(actor=request.user, period=period),
        lambda: render_to_string("intermediaries/partials/_dashboard_body.html", context()),
    )
    return page_response(request, "intermediaries/dashboard.html", body=body, title=_("Dashboard"))


def _cached_html(name: str, key_parts: tuple, render_body):
    """A page section rendered once per data version and language (no forms, no CSRF token in it).

    The figures behind it are cached too; caching the HTML as well spares the template work, which
    is most of what a cached page still costs. The cache keeps the SafeString that rendering made.
    """
    return cached_figures(name, (*key_parts, get_language()), render_body)


@role_required(*BROKER_ROLES)
def client_list_view(request):
    template = (
        "intermediaries/partials/_client_rows.html"
        if request.htmx
        else "intermediaries/partials/_client_list_body.html"
    )

    def render_body() -> tuple[str, int]:
        listing = list_page(
            request,
            ClientFilter,
            client_rows(actor=request.user),
            per_page=25,
            ordering=("last_name", "first_name", "pk"),
            actor=request.user,
        )
        return render_to_string(template, listing.context), listing.status

    list_key = browsing_key(request.GET)
    if list_key is None:  # a search or an unusual parameter: rendered fresh
        body, status = render_body()
    else:
        body, status = _cached_html(
            f"client-list:{template}", (*selectors.actor_key(actor=request.user), *list_key), render_body
        )
    if request.htmx:
        return HttpResponse(body, status=status)
    return page_response(request, "intermediaries/client_list.html", body=body, title=_("Clients"), status=status)


@role_required(*BROKER_ROLES)
def client_export(request):
    filterset = filtered(request, ClientFilter, client_rows(actor=request.user), actor=request.user)
    if not filterset.is_valid():
        return filter_error_response(filterset)
    rows = filterset.qs.order_by("last_name", "first_name", "pk")
    header = [_("Number"), _("First name"), _("Last name"), _("Status"), _("Assets"), _("Currency"), _("Broker")]
    return csv_response(
        filename="clients.csv",
        header=header,
        rows=(
            [
                c.number,
                c.first_name,
                c.last_name,
                c.get_status_display(),
                c.assets,
                c.assets_currency,
                c.advisor.email if c.advisor else "",
            ]
            for c in rows.iterator(chunk_size=2000)
        ),
    )


@role_required(*BROKER_ROLES)
def client_detail(request, client_id):
    client = access_client(actor=request.user, client_id=client_id)
    # The day of the positions, checked as the client's own page and the exports check it: a day
    # that is no date or lies outside the client's history is refused with the reason (400).
    status, on = 200, None
    if request.GET.get("date"):
        span = zone_selectors.valuation_span_of(client=client)
        form = PositionsDateForm(request.GET, opened=span["opened"], latest=span["latest"])
        if form.is_valid():
            on = form.cleaned_data["date"]
        else:
            status = 400
            for error in form.errors["date"]:
                messages.error(request, error)

    def body():
        positions = selectors.positions_of(client=client, on=on)
        performance = selectors.performance_overview_of(client=client)
        return render_to_string(
            "intermediaries/partials/_client_body.html",
            {
                "client": client,
                "portfolios": selectors.portfolios_of(client=client),
                "positions": positions,
                "performance": performance,
                "chart": line_chart(performance["chart"], _("Cumulative time-weighted return")),
                "positions_date": on or (positions[0].price_date if positions else None),
                "positions_on": on,  # the asked day, for the exports (none: the latest valuation)
                "flag_texts": [label for value, label in Valuation.Flag.choices if performance["flags"] & value],
                "transactions": selectors.transactions_of(client=client).order_by("-trade_date", "-id")[:10],
            },
        )

    # Access was checked above for this actor; the section itself is the same for everyone who may see it.
    html = _cached_html("client-html", (client.pk, on), body)
    # The conversation with the client is the viewer's own (their read state, the form's token): never cached.
    html += thread_panel_html(request, client, title=_("Messages with the client"))
    if not client_may_share(actor=request.user, client=client):
        return page_response(request, "intermediaries/client_detail.html", body=html, title=client.name, status=status)
    return render(
        request,
        "intermediaries/client_detail.html",
        {
            "client": client,
            "page_title": client.name,
            "body": html,
            "can_share": True,
            "shares": client_shares(client=client),
            "share_form": ShareForm(actor=request.user, client=client),
        },
        status=status,
    )


@role_required(*BROKER_ROLES)
def client_performance_data(request, client_id):
    start = parse_date(request.GET.get("from", "") or "")
    end = parse_date(request.GET.get("to", "") or "")
    data = selectors.client_performance(actor=request.user, client_id=client_id, start=start, end=end)
    return JsonResponse(
        {
            # Cumulative over the range; the annualised figures only for a range of a year or more.
            "twr": _num(data["twr"]),
            "mwr": _num(data["mwr"]),
            "twr_annualised": _num(data["twr_annualised"]),
            "mwr_annualised": _num(data["mwr_annualised"]),
            "series": [
                {
                    "date": p["date"].isoformat(),
                    "value": _num(p["value"]),
                    "cumulative_return": _num(p["cumulative_return"]),
                }
                for p in data["series"]
            ],
        }
    )


def _num(value):
    return None if value is None else float(value)


@role_required(*BROKER_ROLES)
def transaction_list_view(request, client_id):
    client = access_client(actor=request.user, client_id=client_id)
    listing = list_page(
        request,
        TransactionFilter,
        selectors.transactions_of(client=client).order_by("-trade_date", "-id"),
        per_page=50,
    )
    template = (
        "intermediaries/partials/_transaction_rows.html" if request.htmx else "intermediaries/transaction_list.html"
    )
    return render(request, template, {"client": client, **listing.context}, status=listing.status)


@role_required(*BROKER_ROLES)
def transaction_export(request, client_id, fmt):
    client = access_client(actor=request.user, client_id=client_id)
    return exports.transactions_export(request, client=client, filterset_class=TransactionFilter, fmt=fmt)


@role_required(*BROKER_ROLES)
def position_export(request, client_id, fmt):
    client = access_client(actor=request.user, client_id=client_id)
    return exports.positions_export(request, client=client, fmt=fmt)


@require_POST
@role_required(Role.FIRM_MANAGER)
def client_share(request, client_id):
    client = access_client(actor=request.user, client_id=client_id, action="share")
    form = ShareForm(request.POST, actor=request.user, client=client)
    if form.is_valid():
        action = (
            client_services.client_share if request.POST.get("action") != "revoke" else client_services.client_unshare
        )
        try:
            action(actor=request.user, client=client, broker=form.cleaned_data["broker"])
        except ValidationError as error:
            from django.contrib import messages

            messages.error(request, " ".join(error.messages))
    return redirect("intermediaries:client-detail", client_id=client.pk)


@role_required(Role.FIRM_MANAGER)
def team(request):
    return render(request, "intermediaries/team.html", {"brokers": selectors.broker_breakdown(actor=request.user)})
