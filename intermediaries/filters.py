"""One FilterSet per list, shared by the page and the API."""

import re
from decimal import Decimal

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from clients.models import Client
from portal.accounts.roles import Role
from portal.core.filters import SortFilter, ordered_range_form

from .models import Allocation, AssetClass, Instrument, Portfolio, Transaction, TransactionType

ASSETS_LIMIT = Decimal("999999999999999999.99")


# Bounded like the column (20 digits, 2 places): a larger figure is a clear 400, not a database error.
class AssetsFilter(django_filters.NumberFilter):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, field_name="assets", min_value=0, max_value=ASSETS_LIMIT, **kwargs)


class ClientFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Name or number"), method="filter_q")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Client.Status.choices)
    assets_min = AssetsFilter(label=_("Assets from"), lookup_expr="gte")
    assets_max = AssetsFilter(
        label=_("Assets to"), lookup_expr="lte", help_text=_("Assets up to this figure; not less than assets_min.")
    )
    asset_class = django_filters.ChoiceFilter(
        label=_("Holds asset class"), choices=AssetClass.choices, method="filter_asset_class"
    )
    broker = django_filters.ModelChoiceFilter(
        label=_("Broker"),
        field_name="advisor",
        queryset=None,
        help_text=_("Firm managers: a broker of the firm. Anyone else may name only themselves."),
    )
    ordering = SortFilter(
        label=_("Sort by"),
        fields=(("last_name", "name"), ("number", "number"), ("assets", "assets"), ("status", "status")),
        field_labels={"last_name": _("Name"), "number": _("Number"), "assets": _("Assets"), "status": _("Status")},
    )

    class Meta:
        model = Client
        fields = ["q", "status", "assets_min", "assets_max", "asset_class", "broker"]
        form = ordered_range_form(
            ("assets_min", "assets_max", _("“Assets to” must not be less than “Assets from”.")),
        )

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        users = get_user_model().objects
        # Only a firm manager chooses between brokers (the page shows the choice to them alone);
        # for anyone else the parameter is still checked, so a wrong value is a 400, never ignored.
        self.broker_choice = bool(actor is not None and actor.has_role(Role.FIRM_MANAGER) and actor.organisation_id)
        if self.broker_choice:
            brokers = users.filter(organisation_id=actor.organisation_id, groups__name=Role.INTERMEDIARY).order_by(
                "last_name"
            )
        elif actor is not None and actor.is_authenticated:
            brokers = users.filter(pk=actor.pk)
        else:
            brokers = users.none()
        self.filters["broker"].queryset = brokers

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        condition = Q(number__iexact=value) | Q(last_name__icontains=value) | Q(first_name__icontains=value)
        parts = value.split()
        if len(parts) >= 2:
            condition |= Q(first_name__icontains=parts[0], last_name__icontains=parts[-1])
        return queryset.filter(condition)

    def filter_asset_class(self, queryset, name, value):
        holders = Allocation.objects.filter(asset_class=value, market_value_eur__gt=0).values("portfolio__client_id")
        return queryset.filter(pk__in=holders)


class TransactionFilter(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(label=_("Type"), choices=TransactionType.choices)
    instrument = django_filters.CharFilter(label=_("ISIN"), field_name="instrument__isin", lookup_expr="iexact")
    date_from = django_filters.DateFilter(label=_("From"), field_name="trade_date", lookup_expr="gte")
    date_to = django_filters.DateFilter(
        label=_("To"), field_name="trade_date", lookup_expr="lte", help_text=_("Last trade day; not before date_from.")
    )
    portfolio = django_filters.CharFilter(label=_("Portfolio"), field_name="portfolio__number", lookup_expr="iexact")

    class Meta:
        model = Transaction
        fields = ["type", "instrument", "date_from", "date_to", "portfolio"]
        form = ordered_range_form(("date_from", "date_to", _("“To” must not be before “From”.")))


# The browsing parameters of the client list (page and API) and what each may hold. Only such
# requests are cached: a search term or an assets bound could be anything, and each variant would
# be a cache entry.
_BROWSING = {
    "page": re.compile(r"^\d{1,6}$"),
    "page_size": re.compile(r"^\d{1,3}$"),
    "ordering": re.compile(r"^-?(name|number|assets|status)$"),
    "status": re.compile(r"^[a-z_]{0,16}$"),
    "asset_class": re.compile(r"^[a-z_]{0,16}$"),
    "broker": re.compile(r"^\d{0,12}$"),
}


def browsing_key(query) -> tuple | None:
    """The client-list parameters as a cache key part; None when the request is not plain browsing."""
    if any(name not in _BROWSING for name in query):
        return None
    values = []
    for name, pattern in _BROWSING.items():
        given = query.getlist(name)
        if len(given) > 1 or (given and not pattern.match(given[0])):
            return None
        values.append(given[0] if given else "")
    return tuple(values)


class ZoneTransactionFilter(TransactionFilter):
    """The client zone's transaction list: the client's own portfolios and instruments to choose from.

    A portfolio or instrument that is not among the client's is not a choice: a clear 400, never
    an empty list that would hint at someone else's data.
    """

    portfolio = django_filters.ModelChoiceFilter(label=_("Portfolio"), field_name="portfolio", queryset=None)
    instrument = django_filters.ModelChoiceFilter(
        label=_("Instrument"), field_name="instrument", to_field_name="isin", queryset=None
    )

    def __init__(self, *args, client, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["portfolio"].queryset = Portfolio.objects.filter(client=client).order_by("number")
        self.filters["instrument"].queryset = Instrument.objects.filter(
            pk__in=Transaction.objects.filter(portfolio__client=client, instrument__isnull=False).values("instrument")
        ).order_by("name")
