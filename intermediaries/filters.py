"""One FilterSet per list, shared by the page and the API."""

import re
from decimal import Decimal

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from clients.models import Client
from portal.accounts.roles import Role

from .models import Allocation, AssetClass, Transaction, TransactionType

ASSETS_LIMIT = Decimal("999999999999999999.99")


class ClientFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Name or number"), method="filter_q")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Client.Status.choices)
    # Bounded like the column (20 digits, 2 places): a larger figure is a clear 400, not a database error.
    assets_min = django_filters.NumberFilter(
        label=_("Assets from"), field_name="assets", lookup_expr="gte", min_value=0, max_value=ASSETS_LIMIT
    )
    assets_max = django_filters.NumberFilter(
        label=_("Assets to"), field_name="assets", lookup_expr="lte", min_value=0, max_value=ASSETS_LIMIT
    )
    asset_class = django_filters.ChoiceFilter(
        label=_("Holds asset class"), choices=AssetClass.choices, method="filter_asset_class"
    )
    broker = django_filters.ModelChoiceFilter(label=_("Broker"), field_name="advisor", queryset=None)
    ordering = django_filters.OrderingFilter(
        label=_("Sort by"),
        fields=(("last_name", "name"), ("number", "number"), ("assets", "assets"), ("status", "status")),
        field_labels={"last_name": _("Name"), "number": _("Number"), "assets": _("Assets"), "status": _("Status")},
    )

    class Meta:
        model = Client
        fields = ["q", "status", "assets_min", "assets_max", "asset_class", "broker"]

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        brokers = get_user_model().objects.none()
        if actor is not None and actor.has_role(Role.FIRM_MANAGER) and actor.organisation_id:
            brokers = (
                get_user_model()
                .objects.filter(organisation_id=actor.organisation_id, groups__name=Role.INTERMEDIARY)
                .order_by("last_name")
            )
        else:
            self.filters.pop("broker")
        if "broker" in self.filters:
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
    date_to = django_filters.DateFilter(label=_("To"), field_name="trade_date", lookup_expr="lte")
    portfolio = django_filters.CharFilter(label=_("Portfolio"), field_name="portfolio__number", lookup_expr="iexact")

    class Meta:
        model = Transaction
        fields = ["type", "instrument", "date_from", "date_to", "portfolio"]


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
