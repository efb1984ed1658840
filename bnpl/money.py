"""Money in bnpl: `Decimal` amounts, each with an ISO 4217 currency, rounded half up to the minor unit.

Every currency bnpl supports has two decimal places; the table keeps the minor unit anyway, so a
currency without one (JPY, say) would be a line here and not a change of every calculation.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q

# The currencies a merchant may sell in, with their minor units (decimal places).
MINOR_UNITS = {
    "EUR": 2,
    "USD": 2,
    "GBP": 2,
    "CHF": 2,
    "PLN": 2,
    "CZK": 2,
    "SEK": 2,
    "DKK": 2,
}
SUPPORTED_CURRENCIES = tuple(MINOR_UNITS)
CURRENCY_CHOICES = [(code, code) for code in SUPPORTED_CURRENCIES]
CURRENCY_PATTERN = r"^[A-Z]{3}$"

# Amounts up to 9,999,999,999.99: far beyond any purchase, within every database's exact decimals.
MONEY = {"max_digits": 12, "decimal_places": 2}
# Rates in percent per year, four places (19.5618 %).
RATE = {"max_digits": 8, "decimal_places": 4}


def minor_unit(currency: str) -> Decimal:
    """The smallest amount of `currency` (0.01 for EUR)."""
    return Decimal(1).scaleb(-MINOR_UNITS.get(currency, 2))


def money_round(amount: Decimal, currency: str) -> Decimal:
    """`amount` rounded half up to the minor unit of `currency`."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"Money is a Decimal, never {type(amount).__name__}.")
    return amount.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


def currency_check(field: str = "currency") -> Q:
    """For a CheckConstraint: three upper-case letters (ISO 4217's form)."""
    return Q(**{f"{field}__regex": CURRENCY_PATTERN})
