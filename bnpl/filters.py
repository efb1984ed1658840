"""One FilterSet per list, shared by the merchant dashboard and the API."""

import django_filters
from django.utils.translation import gettext_lazy as _

from portal.core.filters import ordered_range_form

from .models import Order


class OrderFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(label=_("State"), choices=Order.State.choices)
    created_after = django_filters.DateFilter(
        label=_("Created on or after"), field_name="created_at", lookup_expr="date__gte"
    )
    created_before = django_filters.DateFilter(
        label=_("Created on or before"), field_name="created_at", lookup_expr="date__lte"
    )
    reference = django_filters.CharFilter(label=_("Order reference"), field_name="reference")

    class Meta:
        model = Order
        fields = ["state", "created_after", "created_before", "reference"]
        form = ordered_range_form(("created_after", "created_before", _("The end of the range lies before its start.")))
