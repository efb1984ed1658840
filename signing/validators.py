"""Input checks shared by forms, the API and the services: IBANs and currencies.

Attachments are checked by the kernel (`portal.core.uploads`).
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# ISO 13616 lengths of the countries a client of a European dealer pays to.
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "CH": 21, "CY": 28,
    "CZ": 24, "DE": 22, "DK": 18, "EE": 20, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22,
    "GI": 23, "GL": 18, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IS": 26, "IT": 27, "KZ": 20,
    "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MT": 31, "NL": 18,
    "NO": 15, "PL": 28, "PT": 25, "RO": 24, "RS": 22, "SA": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27,
    "TR": 26, "UA": 29, "VA": 22, "XK": 20,
}  # fmt: skip
_IBAN_RE = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$")

CURRENCIES = ["EUR", "USD", "CHF", "GBP", "CZK", "PLN", "SEK", "NOK", "DKK"]


def iban_normalise(value: str) -> str:
    return re.sub(r"[\s-]+", "", value or "").upper()


def iban_validate(value: str) -> str:
    """Return the IBAN without spaces, upper case; raise ValidationError if it cannot be one."""
    iban = iban_normalise(value)
    if not _IBAN_RE.match(iban):
        raise ValidationError(_("Enter an IBAN: two letters, two check digits and the account number."), code="iban")
    country = iban[:2]
    if country not in IBAN_LENGTHS:
        raise ValidationError(
            _("IBANs from %(country)s are not accepted."), code="iban_country", params={"country": country}
        )
    if len(iban) != IBAN_LENGTHS[country]:
        raise ValidationError(
            _("An IBAN from %(country)s has %(length)d characters; this one has %(actual)d."),
            code="iban_length",
            params={"country": country, "length": IBAN_LENGTHS[country], "actual": len(iban)},
        )
    rearranged = iban[4:] + iban[:4]
    number = int("".join(str(int(ch, 36)) for ch in rearranged))
    if number % 97 != 1:
        raise ValidationError(_("This IBAN's check digits do not match; please check it for typos."), code="iban")
    return iban


def iban_display(iban: str) -> str:
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
