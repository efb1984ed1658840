"""Writes of instant shopping: a merchant's buy buttons, its confirmation URL, and a shopper's purchase.

A merchant's people make a button (product, unit price and currency, tax rate, one or more shipping
options) and put its link, `/bnpl/buy/<key>/`, in their shop. A logged-in shopper who buys from it
gets a payment session of that merchant with two lines (product × quantity, the shipping option),
marked with the button, and goes on to the hosted checkout. Before the checkout places the order it
asks the merchant's server (bnpl/instant.py).

Each service checks its input itself (API, pages and demo call the same one), runs in one
transaction with its audit event; bad input raises ValidationError naming the field and writes nothing.
"""

import secrets
import string
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.urls import reverse
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _

from portal.audit.services import audit_record

from . import services
from .instant import confirmation_url_validate
from .models import BuyButton, Locale, Merchant, PaymentSession, ShippingOption
from .money import SUPPORTED_CURRENCIES, minor_unit, money_round
from .permissions import merchant_organisation_id

BUTTON_KEY_MARK = "pzb_"
MAX_SHIPPING_OPTIONS = 10
MAX_QUANTITY = 99


@dataclass(frozen=True)
class ShippingInput:
    name: str
    price: Decimal


@dataclass(frozen=True)
class ButtonInput:
    """What a merchant says about a button's product, from a page, the API or the demo."""

    name: str
    unit_price: Decimal
    currency: str
    shipping_options: list[ShippingInput]
    tax_rate: Decimal = Decimal("0")
    description: str = ""
    image_url: str = ""

    @classmethod
    def of(cls, button: BuyButton) -> "ButtonInput":
        """The button as it stands (a partial change starts from it)."""
        return cls(
            name=button.name,
            unit_price=button.unit_price,
            currency=button.currency,
            shipping_options=[ShippingInput(o.name, o.price) for o in button.shipping_options.all()],
            tax_rate=button.tax_rate,
            description=button.description,
            image_url=button.image_url,
        )

    def fields(self) -> dict:
        """The button's own columns, trimmed."""
        return {
            "name": self.name.strip(),
            "unit_price": self.unit_price,
            "currency": self.currency,
            "tax_rate": self.tax_rate,
            "description": self.description.strip(),
            "image_url": self.image_url.strip(),
        }


def button_key_new() -> str:
    """The public, unguessable key of a button: 192 random bits after a visible mark."""
    return BUTTON_KEY_MARK + secrets.token_urlsafe(24)


def buy_url(button: BuyButton) -> str:
    """The button's public link, the one the merchant puts in their shop."""
    return f"{settings.PORTAL_BASE_URL.rstrip('/')}{reverse('bnpl:buy', args=[button.key])}"


# --- Checks ------------------------------------------------------------------------------------------


def _button_check(*, name, unit_price, currency, tax_rate, shipping_options, description, image_url) -> None:
    errors = {}
    if not name.strip() or len(name.strip()) > 200:
        errors["name"] = _("Give the product's name, at most 200 characters.")
    if currency not in SUPPORTED_CURRENCIES:
        errors["currency"] = _("%(currency)s is not supported; use one of %(supported)s.") % {
            "currency": currency,
            "supported": ", ".join(SUPPORTED_CURRENCIES),
        }
    cent = minor_unit(currency) if currency in SUPPORTED_CURRENCIES else Decimal("0.01")
    if not isinstance(unit_price, Decimal) or not unit_price.is_finite() or unit_price <= 0:
        errors["unit_price"] = _("The unit price must be more than zero.")
    elif unit_price != unit_price.quantize(cent) or unit_price >= Decimal("1e10"):
        errors["unit_price"] = _("The unit price must be in whole cents, below 10,000,000,000.")
    if not isinstance(tax_rate, Decimal) or not tax_rate.is_finite() or not Decimal(0) <= tax_rate <= Decimal(100):
        errors["tax_rate"] = _("The tax rate is a percentage from 0 to 100.")
    if len(description) > 2000:
        errors["description"] = _("Keep the description to 2,000 characters.")
    if image_url:
        try:
            URLValidator(schemes=["https"])(image_url)
            if len(image_url) > 500:
                raise ValidationError("too long")
        except ValidationError:
            errors["image_url"] = _("Give the picture's https:// address (at most 500 characters), or none.")
    shipping_errors = _shipping_check(shipping_options, cent)
    if shipping_errors:
        errors["shipping_options"] = shipping_errors
    if errors:
        raise ValidationError(errors)


def _shipping_check(options, cent) -> list[str]:
    if not options:
        return [_("Give at least one shipping option (a name and a price; the price may be 0).")]
    if len(options) > MAX_SHIPPING_OPTIONS:
        return [_("Give at most %(count)d shipping options.") % {"count": MAX_SHIPPING_OPTIONS}]
    problems, seen = [], set()
    for number, option in enumerate(options, start=1):
        name = option.name.strip()
        if not name or len(name) > 100:
            problems.append(
                _("Shipping option %(number)d: give its name (at most 100 characters).") % {"number": number}
            )
        elif name.casefold() in seen:
            problems.append(
                _("Shipping option %(number)d: the name %(name)s is used twice.") % {"number": number, "name": name}
            )
        seen.add(name.casefold())
        price = option.price
        if not isinstance(price, Decimal) or not price.is_finite() or price < 0 or price != price.quantize(cent):
            problems.append(
                _("Shipping option %(number)d: the price must be zero or more, in whole cents.") % {"number": number}
            )
        elif price >= Decimal("1e10"):
            problems.append(_("Shipping option %(number)d: the price is too large.") % {"number": number})
    return problems


# --- The merchant's buttons --------------------------------------------------------------------------


def _shipping_write(button: BuyButton, options: list[ShippingInput]) -> None:
    ShippingOption.objects.bulk_create(
        [
            ShippingOption(button=button, position=position, name=option.name.strip(), price=option.price)
            for position, option in enumerate(options, start=1)
        ]
    )


def button_create(*, actor, product: ButtonInput) -> BuyButton:
    """A new, active buy button of the actor's merchant."""
    organisation = merchant_organisation_id(actor)
    if organisation is None:
        raise PermissionDenied(_("Only a merchant's people can make buy buttons."))
    fields, shipping_options = product.fields(), product.shipping_options
    _button_check(**fields, shipping_options=shipping_options)
    with transaction.atomic(durable=True):
        merchant = Merchant.objects.filter(organisation_id=organisation).first()
        if merchant is None or not merchant.active:
            raise PermissionDenied(_("Your organisation is not an active BNPL merchant."))
        button = BuyButton.objects.create(merchant=merchant, key=button_key_new(), created_by=actor, **fields)
        _shipping_write(button, shipping_options)
        audit_record(
            action="bnpl.button_created",
            actor=actor,
            obj=button,
            changes={**_audited(fields), "shipping_options": _shipping_audited(shipping_options)},
        )
    return button


def button_update(*, actor, button_id: int, product: ButtonInput) -> BuyButton:
    """Change a button (its shipping options are replaced); sessions opened before keep their own lines."""
    fields, shipping_options = product.fields(), product.shipping_options
    _button_check(**fields, shipping_options=shipping_options)
    with transaction.atomic(durable=True):
        button = BuyButton.objects.select_for_update().restrict(actor, "operate").filter(pk=button_id).first()
        if button is None:
            raise PermissionDenied
        before = {key: getattr(button, key) for key in fields}
        old_options = ButtonInput.of(button).shipping_options
        for key, value in fields.items():
            setattr(button, key, value)
        button.save(update_fields=[*fields, "updated_at"])
        button.shipping_options.all().delete()
        _shipping_write(button, shipping_options)
        changes = {key: [str(before[key]), str(value)] for key, value in fields.items() if before[key] != value}
        if _shipping_audited(old_options) != _shipping_audited(shipping_options):
            changes["shipping_options"] = [_shipping_audited(old_options), _shipping_audited(shipping_options)]
        audit_record(action="bnpl.button_changed", actor=actor, obj=button, changes=changes)
    return button


def button_active_set(*, actor, button_id: int, active: bool) -> BuyButton:
    """Switch a button off (its link then says it is not available) or on again."""
    with transaction.atomic(durable=True):
        button = BuyButton.objects.select_for_update().restrict(actor, "operate").filter(pk=button_id).first()
        if button is None:
            raise PermissionDenied
        if button.active != active:
            button.active = active
            button.save(update_fields=["active", "updated_at"])
            audit_record(
                action="bnpl.button_activated" if active else "bnpl.button_deactivated",
                actor=actor,
                obj=button,
                changes={"active": [not active, active]},
            )
    return button


def _audited(fields: dict) -> dict:
    return {key: str(value) for key, value in fields.items()}


def _shipping_audited(options) -> list[str]:
    return [f"{option.name.strip()}: {option.price}" for option in options]


def confirmation_url_set(*, actor, merchant_id: int, confirmation_url: str) -> Merchant:
    """Where the merchant's server is asked to confirm instant purchases ("" = confirm them by default)."""
    url = confirmation_url_validate(confirmation_url)
    with transaction.atomic(durable=True):
        merchant = Merchant.objects.select_for_update().restrict(actor).filter(pk=merchant_id).first()
        if merchant is None or merchant_organisation_id(actor) != merchant.organisation_id:
            raise PermissionDenied
        old = merchant.confirmation_url
        if old != url:
            merchant.confirmation_url = url
            merchant.save(update_fields=["confirmation_url"])
            audit_record(
                action="bnpl.confirmation_url_changed",
                actor=actor,
                obj=merchant,
                changes={"confirmation_url": [old, url]},
            )
    return merchant


# --- A shopper buys ----------------------------------------------------------------------------------


def button_purchase(*, actor, key: str, shipping_option_id, quantity, locale: str = Locale.EN) -> PaymentSession:
    """The logged-in shopper's payment session for `quantity` of the button's product and one shipping
    option, in the shopper's name and e-mail; the checkout takes it from there."""
    if not getattr(actor, "is_authenticated", False):
        raise PermissionDenied(_("Log in to buy."))
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= MAX_QUANTITY:
        raise ValidationError({"quantity": _("Choose a quantity from 1 to %(max)d.") % {"max": MAX_QUANTITY}})
    if locale not in Locale.values:
        locale = Locale.EN
    with transaction.atomic(durable=True):
        # Locked (no key update) so a change of price or shipping waits for this purchase and the other way round:
        # the session is priced from one version of the button.
        button = (
            BuyButton.objects.select_for_update(no_key=True, of=("self",))
            .select_related("merchant")
            .filter(key=key, active=True, merchant__active=True)
            .first()
        )
        if button is None:
            raise ValidationError({"button": _("This product is no longer offered.")})
        option_id = _as_id(shipping_option_id)
        option = button.shipping_options.filter(pk=option_id).first() if option_id else None
        if option is None:
            raise ValidationError({"shipping_option": _("Choose one of the shipping options.")})
        currency = button.currency
        lines = [
            services.LineInput(
                name=button.name, quantity=quantity, unit_price=button.unit_price, tax_rate=button.tax_rate
            ),
            services.LineInput(
                name=_("Shipping: %(option)s") % {"option": option.name},
                quantity=1,
                unit_price=option.price,
                tax_rate=button.tax_rate,
            ),
        ]
        session = {
            "amount": money_round(sum((line.quantity * line.unit_price for line in lines), Decimal(0)), currency),
            "currency": currency,
            "lines": lines,
            "shopper_email": actor.email,
            "locale": locale,
            "reference": "IB-" + get_random_string(10, allowed_chars=string.ascii_uppercase + string.digits),
        }
        services.session_check(**session)
        return services.session_write(actor=actor, merchant=button.merchant, button=button, **session)


def _as_id(value) -> int | None:
    """A row id from a form or JSON value, or None (never a number the database's bigint cannot hold)."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19:
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63:
        return value
    return None
