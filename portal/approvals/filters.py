"""The approvals list's one FilterSet, shared by the page, its CSV export and the API."""

import django_filters
from django.utils.choices import BaseChoiceIterator
from django.utils.translation import gettext_lazy as _

from .models import Approval
from .registry import approval_kinds


class _KindChoices(BaseChoiceIterator):
    """The registered kinds, read on every use: apps register them at start-up (and tests their own),
    after this module may have built its fields. django-filter counts choices, hence `__len__`."""

    def __iter__(self):
        yield from ((policy.key, policy.label) for policy in approval_kinds())

    def __len__(self):
        return len(approval_kinds())


class ApprovalFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=_KindChoices())
    state = django_filters.ChoiceFilter(label=_("State"), choices=Approval.State.choices)
    to_decide = django_filters.BooleanFilter(
        label=_("Waiting for my decision"),
        method="filter_to_decide",
        help_text=_("Pending approvals you may decide and have not decided yet."),
    )

    class Meta:
        model = Approval
        fields = ["kind", "state", "to_decide"]

    def __init__(self, *args, actor=None, **kwargs):
        # Pages pass the actor; the API's filter backend passes the request, whose user it is.
        super().__init__(*args, **kwargs)
        self.actor = actor if actor is not None else getattr(self.request, "user", None)

    def filter_to_decide(self, queryset, name, value):
        if value is None:
            return queryset
        from .selectors import approvals_to_decide

        if self.actor is None:
            return queryset.none()
        waiting = approvals_to_decide(actor=self.actor).values("pk")
        return queryset.filter(pk__in=waiting) if value else queryset.exclude(pk__in=waiting)
