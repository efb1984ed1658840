"""Filters shared by the lists of several apps (pages and API alike)."""

import django_filters
from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


def _descending(label) -> str:
    # django-filter's own wording, so its catalogues translate it too.
    return gettext("%s (descending)") % label


descending_label = lazy(_descending, str)


class _SortKeysField(django_filters.fields.MultipleChoiceField):
    def to_python(self, value):
        # `?ordering=` (an empty form select) is no sort key at all, not a wrong one.
        return [key for key in super().to_python(value) if key != ""]


class SortFilter(django_filters.MultipleChoiceFilter):
    """Sort keys, one per `ordering` parameter: `?ordering=-assets&ordering=name`.

    Repeating the parameter is the form OpenAPI describes for a query array (`style: form,
    explode: true`) and the form generated clients send, so it is the only one accepted: a
    comma-separated value is not a sort key and answers 400, rather than being half applied.
    `fields` maps model fields to the public key names, as django-filter's OrderingFilter does;
    each key also exists with a leading `-` for descending order.
    """

    field_class = _SortKeysField

    def __init__(self, *args, fields, field_labels=None, **kwargs):
        self.param_map = {param: field for field, param in fields}
        labels = field_labels or {}
        choices = []
        for field, param in fields:
            label = labels.get(field, param)
            choices.append((param, label))
            # Lazy like the label itself: formatted in the language of the page that shows it, not
            # once at import (which froze it in English).
            choices.append((f"-{param}", descending_label(label)))
        kwargs["choices"] = choices
        kwargs.setdefault(
            "error_messages",
            {
                "invalid_choice": _(
                    "%(value)s is not a sort key; for several keys repeat the parameter "
                    "(?ordering=-assets&ordering=name)."
                )
            },
        )
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        keys = [key for key in value or () if key]
        if not keys:
            return qs
        ordering = []
        for key in keys:
            descending = key.startswith("-")
            field = self.param_map[key.removeprefix("-")]
            ordering.append(f"-{field}" if descending else field)
        return qs.order_by(*ordering)


def ordered_range_form(*ranges):
    """A FilterSet form (`Meta.form`) refusing a range whose lower bound lies above its upper one.

    `ranges` are (lower field, upper field, message) triples; the message goes on the upper
    field, the one a person would correct. Pages show it beside the filter, the API answers 400.
    """

    class OrderedRangeForm(forms.Form):
        def clean(self):
            data = super().clean()
            for low, high, message in ranges:
                if data.get(low) is not None and data.get(high) is not None and data[low] > data[high]:
                    self.add_error(high, message)
            return data

    return OrderedRangeForm
