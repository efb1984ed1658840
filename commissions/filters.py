"""One FilterSet per list, shared by the pages and the API.

Ids and years are whole numbers within bounds, in the form and in the OpenAPI schema alike, so a
number too large for the database is a 400 with a reason, never a server error.
"""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field

from portal.core.filters import ordered_range_form

from .models import Accrual, AssetClass, Kind, Statement
from .permissions import sees_everything

MAX_ID = 2**63 - 1


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


@extend_schema_field({"type": "integer", "minimum": 2000, "maximum": 2999})
class YearFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=2000, max_value=2999, **kwargs)


class StatementFilter(django_filters.FilterSet):
    year = YearFilter(label=_("Year"), field_name="period", lookup_expr="year")
    month = django_filters.DateFilter(label=_("Month (first day)"), field_name="period")
    status = django_filters.ChoiceFilter(
        label=_("Payout status"), choices=Statement.Status.choices, method="filter_status"
    )
    beneficiary = IdFilter(label=_("Person"), field_name="beneficiary_id")

    class Meta:
        model = Statement
        fields = ["year", "month", "status", "beneficiary"]

    def __init__(self, *args, actor=None, **kwargs):
        # Pages pass the actor; the API's filter backend passes the request, whose user it is.
        super().__init__(*args, **kwargs)
        self.actor = actor if actor is not None else getattr(self.request, "user", None)

    def filter_status(self, queryset, name, value):
        # A beneficiary reads a rejected statement as in review: it is found under "prepared", and
        # asking for "rejected" finds nothing, so the filter does not tell them what the page hides.
        if self.actor is not None and not sees_everything(self.actor):
            if value == Statement.Status.PREPARED:
                return queryset.filter(status__in=[Statement.Status.PREPARED, Statement.Status.REJECTED])
            if value == Statement.Status.REJECTED:
                return queryset.none()
        return queryset.filter(status=value)


class AccrualFilter(django_filters.FilterSet):
    statement = IdFilter(label=_("Statement"), field_name="statement_id")
    month = django_filters.DateFilter(label=_("Month (first day)"), field_name="period")
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=Kind.choices)
    client = IdFilter(label=_("Client"), field_name="client_id")
    asset_class = django_filters.ChoiceFilter(label=_("Asset class"), choices=AssetClass.choices)
    date_from = django_filters.DateFilter(label=_("From"), field_name="date", lookup_expr="gte")
    date_to = django_filters.DateFilter(
        label=_("To"), field_name="date", lookup_expr="lte", help_text=_("Last day; not before date_from.")
    )

    class Meta:
        model = Accrual
        fields = ["statement", "month", "kind", "client", "asset_class", "date_from", "date_to"]
        form = ordered_range_form(("date_from", "date_to", _("“To” must not be before “From”.")))
