"""One FilterSet per list, shared by the page and the API."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .models import SignatureRequest


class SignatureRequestFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Title, client or reference"), method="filter_q")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=SignatureRequest.Status.choices)
    kind = django_filters.ChoiceFilter(label=_("Type"), choices=SignatureRequest.Kind.choices)

    class Meta:
        model = SignatureRequest
        fields = ["q", "status", "kind"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        condition = Q(title__icontains=value) | Q(recipient_label__icontains=value)
        reference = value.upper().removeprefix("SR-")
        if 4 <= len(reference) <= 8 and all(ch in "0123456789ABCDEF" for ch in reference):
            # The short reference is the start of the UUID's hex form.
            condition |= Q(uuid__startswith=reference.lower())
        return queryset.filter(condition)
