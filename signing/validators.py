"""Input checks shared by forms, the API and the services: IBANs, and attachments by their content."""

import io
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
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


@dataclass(frozen=True)
class FileKind:
    content_type: str
    extension: str


PDF = FileKind("application/pdf", "pdf")
PNG = FileKind("image/png", "png")
JPEG = FileKind("image/jpeg", "jpg")


class AttachmentTooLarge(ValidationError):
    """An attachment over the size limit (pages and the API answer 413)."""


def attachment_check(upload) -> FileKind:
    """Decide an upload's type from its bytes (never its name or the browser's word) and check its size.

    Accepts PDF, PNG and JPEG. Images must decode; a PDF must start with the PDF header and end
    with an end-of-file marker.
    """
    limit = settings.SIGNING_MAX_ATTACHMENT_BYTES
    size = upload.size if upload.size is not None else 0
    if size > limit:
        raise AttachmentTooLarge(
            _("%(name)s is %(size)s; attachments may be at most %(limit)s."),
            code="too_large",
            params={"name": upload.name, "size": filesizeformat(size), "limit": filesizeformat(limit)},
        )
    if size == 0:
        raise ValidationError(_("%(name)s is empty."), code="empty", params={"name": upload.name})
    upload.seek(0)
    head = upload.read(16)
    kind = None
    if head.startswith(b"%PDF-"):
        kind = PDF
        upload.seek(max(size - 1024, 0))
        if b"%%EOF" not in upload.read():
            kind = None
    elif head.startswith(b"\x89PNG\r\n\x1a\n"):
        kind = PNG if _image_decodes(upload, "PNG") else None
    elif head.startswith(b"\xff\xd8\xff"):
        kind = JPEG if _image_decodes(upload, "JPEG") else None
    upload.seek(0)
    if kind is None:
        raise ValidationError(
            _("%(name)s is not a PDF, PNG or JPEG file."), code="file_type", params={"name": upload.name}
        )
    return kind


def _image_decodes(upload, expected: str) -> bool:
    from PIL import Image, UnidentifiedImageError

    upload.seek(0)
    try:
        with Image.open(io.BytesIO(upload.read())) as image:
            if image.format != expected:
                return False
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return False
    return True


def attachment_name(name: str) -> str:
    """A display name safe to show and to put in a Content-Disposition header."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[\x00-\x1f\x7f\"<>]", "", name).strip() or "attachment"
    return name[:200]
