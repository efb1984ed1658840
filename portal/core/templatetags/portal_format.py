"""Numbers formatted for the reader's language: money with its currency, returns as percent."""

import functools
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.utils.formats import get_format
from django.utils.translation import get_language

register = template.Library()


@functools.lru_cache(maxsize=32)
def _separators(language: str | None) -> tuple[str, str]:
    return (
        get_format("DECIMAL_SEPARATOR", language, use_l10n=True),
        get_format("THOUSAND_SEPARATOR", language, use_l10n=True),
    )


def number_format(amount: Decimal, decimal_pos: int | None = None) -> str:
    """Grouped thousands and the language's separators, rounded half up to `decimal_pos` places.

    Django's own number_format truncates extra places (0.129 -> 0.12) and looks the separators
    up on every call; a page with a hundred figures felt both.
    """
    decimal_separator, thousand_separator = _separators(get_language())
    if decimal_pos is not None:
        amount = amount.quantize(Decimal(1).scaleb(-decimal_pos), rounding=ROUND_HALF_UP)
    if not amount:
        amount = abs(amount)  # no "-0.00"
    text = f"{amount:,f}"
    return text.replace(",", "\x00").replace(".", decimal_separator).replace("\x00", thousand_separator)


@register.filter
def money(value, currency=""):
    if value is None or value == "":
        return "–"
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return "–"
    text = number_format(amount, 2)
    return f"{text} {currency}".strip()


@register.filter
def percent(value, places=2):
    if value is None or value == "":
        return "–"
    try:
        ratio = Decimal(value) * 100
    except (InvalidOperation, TypeError, ValueError):
        return "–"
    return f"{number_format(ratio, int(places))} %"


@register.filter
def quantity(value):
    if value is None:
        return "–"
    text = number_format(Decimal(value).normalize())
    return text


@register.filter
def signed_class(value):
    """A CSS class for a figure that can be a gain or a loss."""
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return ""
    return "text-success" if number > 0 else "text-danger" if number < 0 else ""
