"""Numbers formatted for the reader's language: money with its currency, returns as percent."""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def money(value, currency=""):
    if value is None or value == "":
        return "–"
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return "–"
    text = number_format(amount, decimal_pos=2, use_l10n=True, force_grouping=True)
    return f"{text} {currency}".strip()


@register.filter
def percent(value, places=2):
    if value is None or value == "":
        return "–"
    try:
        ratio = Decimal(value) * 100
    except (InvalidOperation, TypeError, ValueError):
        return "–"
    return f"{number_format(ratio, decimal_pos=int(places), use_l10n=True, force_grouping=True)} %"


@register.filter
def quantity(value):
    if value is None:
        return "–"
    text = number_format(Decimal(value).normalize(), use_l10n=True, force_grouping=True)
    return text


@register.filter
def signed_class(value):
    """A CSS class for a figure that can be a gain or a loss."""
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return ""
    return "text-success" if number > 0 else "text-danger" if number < 0 else ""
