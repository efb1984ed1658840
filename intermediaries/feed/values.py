"""Single values of a feed row, validated: text, choices, ISINs, currencies, dates and decimals.

Each parser takes the row (column name -> stripped text) and a column, and returns the value as
the model stores it or raises RowError with the reason shown to the operator.
"""

import re
from datetime import date
from decimal import Decimal
from functools import lru_cache

from django.db import models

ISIN_RE = re.compile(r"[A-Z]{2}[A-Z0-9]{9}[0-9]")
CURRENCY_RE = re.compile(r"[A-Z]{3}")
COUNTRY_RE = re.compile(r"[A-Z]{2}")
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Plain notation only: no exponent, no NaN or Infinity, no thousands separator, no decimal comma.
DECIMAL_RE = re.compile(r"([+-]?)(\d+)(?:\.(\d+))?")


class RowError(ValueError):
    """A row the importer cannot accept; the message is the reason shown to the operator."""


@lru_cache(maxsize=100_000)
def isin_check_digit(body: str) -> str:
    """The check digit for an ISIN's first eleven characters (ISO 6166).

    Letters become two digits (A=10 … Z=35), then Luhn: from the right, every other digit is
    doubled, starting with the rightmost because the check digit will follow it.
    """
    digits = "".join(str(int(char, 36)) for char in body)
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str(-total % 10)


def isin_valid(value: str) -> bool:
    return bool(ISIN_RE.fullmatch(value)) and value[11] == isin_check_digit(value[:11])


def model_field(model: type[models.Model], name: str):
    return model._meta.get_field(name)


def parse_text(values: dict, column: str, *, max_length: int, required: bool = True) -> str:
    value = values[column]
    if required and not value:
        raise RowError(f"{column} is empty")
    if len(value) > max_length:
        raise RowError(f"{column} is longer than {max_length} characters")
    return value


@lru_cache
def _choice_values(choices: type[models.TextChoices]) -> frozenset[str]:
    return frozenset(choices.values)  # Choices.values builds a new list on every access


def parse_choice(values: dict, column: str, choices: type[models.TextChoices]) -> str:
    value = values[column]
    if value not in _choice_values(choices):
        raise RowError(f"{column} {value!r} is not one of {', '.join(choices.values)}")
    return value


def parse_isin(values: dict, column: str, *, required: bool = True) -> str:
    value = values[column]
    if not value:
        if required:
            raise RowError(f"{column} is empty")
        return ""
    if not ISIN_RE.fullmatch(value):
        raise RowError(f"{column} {value!r} is not an ISIN (2 letters, 9 letters or digits, 1 check digit)")
    if value[11] != isin_check_digit(value[:11]):
        raise RowError(f"{column} {value!r} has a wrong check digit (expected {isin_check_digit(value[:11])})")
    return value


def parse_currency(values: dict, column: str) -> str:
    value = values[column]
    if not CURRENCY_RE.fullmatch(value):
        raise RowError(f"{column} {value!r} is not an ISO 4217 code (3 capital letters)")
    return value


def parse_country(values: dict, column: str) -> str:
    """An ISO 3166 alpha-2 code, or empty."""
    value = values[column]
    if value and not COUNTRY_RE.fullmatch(value):
        raise RowError(f"{column} {value!r} is not an ISO 3166 code (2 capital letters)")
    return value


def parse_date(values: dict, column: str, *, required: bool = True) -> date | None:
    value = values[column]
    if not value:
        if required:
            raise RowError(f"{column} is empty")
        return None
    if not DATE_RE.fullmatch(value):
        raise RowError(f"{column} {value!r} is not a date in the form YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RowError(f"{column} {value!r} is not a valid date") from None


def parse_decimal(values: dict, column: str, *, model_field, minimum: str = "any", required: bool = True) -> Decimal:
    """A decimal that fits `model_field` exactly: refused rather than rounded, so a re-import compares equal.

    `minimum` is "positive" (> 0), "zero" (>= 0) or "any".
    """
    value = values[column]
    if not value:
        if required:
            raise RowError(f"{column} is empty")
        return Decimal(0)
    match = DECIMAL_RE.fullmatch(value)
    if not match:
        raise RowError(f"{column} {value!r} is not a decimal number (digits and an optional '.')")
    places = model_field.decimal_places
    whole = model_field.max_digits - places
    if len((match.group(3) or "").rstrip("0")) > places:
        raise RowError(f"{column} {value} has more than {places} decimal places")
    if len(match.group(2).lstrip("0")) > whole:
        raise RowError(f"{column} {value} has more than {whole} digits before the decimal point")
    number = Decimal(value)
    if minimum == "positive" and number <= 0:
        raise RowError(f"{column} must be greater than 0, not {value}")
    if minimum == "zero" and number < 0:
        raise RowError(f"{column} must not be negative, not {value}")
    return number
