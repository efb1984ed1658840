"""Writes of bnpl's core: merchants, shopper profiles and payment sessions.

Each service checks its input itself, whichever entry point calls it (API, admin, demo), runs in
one transaction and appends its audit event there. Bad input raises ValidationError naming the
field, and nothing is written.
"""

import secrets
import string
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _

from portal.audit.services import audit_record
from portal.notifications.sealed import secret_seal

from .models import Locale, Merchant, OrderLine, PaymentSession, Shopper
from .money import SUPPORTED_CURRENCIES, minor_unit, money_round
from .permissions import merchant_organisation_id

WEBHOOK_SECRET_MARK = "whsec_"  # noqa: S105 (the visible mark of every webhook secret, not one)
WEBHOOK_SECRET_LENGTH = 40
WEBHOOK_SECRET_SHOWN = len(WEBHOOK_SECRET_MARK) + 6
MAX_LINES = 200


# --- Merchants -------------------------------------------------------------------------------------


def _webhook_secret_new() -> tuple[str, str, str]:
    """(the secret to show once, its visible prefix, the sealed form to store)."""
    secret = WEBHOOK_SECRET_MARK + get_random_string(
        WEBHOOK_SECRET_LENGTH, allowed_chars=string.ascii_letters + string.digits
    )
    return secret, secret[:WEBHOOK_SECRET_SHOWN], secret_seal(secret)


def merchant_create(
    *, actor, organisation, trading_name: str, webhook_url: str = "", default_currency: str = "EUR"
) -> tuple[Merchant, str]:
    """Make a merchant organisation a BNPL merchant; returns it with its webhook secret, shown once."""
    if organisation.kind != "merchant":
        raise ValidationError({"organisation": _("Only an organisation of kind merchant can sell with BNPL.")})
    if default_currency not in SUPPORTED_CURRENCIES:
        raise ValidationError({"default_currency": _("This currency is not supported.")})
    secret, prefix, sealed = _webhook_secret_new()
    with transaction.atomic():
        merchant = Merchant.objects.create(
            organisation=organisation,
            trading_name=trading_name.strip() or organisation.name,
            webhook_url=webhook_url,
            webhook_secret_sealed=sealed,
            webhook_secret_prefix=prefix,
            default_currency=default_currency,
        )
        audit_record(
            action="bnpl.merchant_created",
            actor=actor,
            obj=merchant,
            changes={"organisation": organisation.name, "webhook_secret": prefix + "…"},
        )
    return merchant, secret


def merchant_webhook_secret_rotate(*, actor, second_factor_verified: bool, merchant_id) -> tuple[Merchant, str]:
    """A new webhook secret (the old one stops signing at once); returns it, shown once.

    Like an API key, a secret is handed out only to a session verified by a second factor.
    """
    if not second_factor_verified:
        raise PermissionDenied(_("Confirm with your second factor to replace the webhook secret."))
    secret, prefix, sealed = _webhook_secret_new()
    with transaction.atomic():
        merchant = Merchant.objects.select_for_update().restrict(actor).filter(pk=merchant_id).first()
        if merchant is None:
            raise PermissionDenied
        old = merchant.webhook_secret_prefix
        merchant.webhook_secret_sealed, merchant.webhook_secret_prefix = sealed, prefix
        merchant.save(update_fields=["webhook_secret_sealed", "webhook_secret_prefix"])
        audit_record(
            action="bnpl.webhook_secret_rotated",
            actor=actor,
            obj=merchant,
            changes={"webhook_secret": [old + "…", prefix + "…"]},
        )
    return merchant, secret


# --- Shoppers --------------------------------------------------------------------------------------


def shopper_profile_ensure(*, actor, user, **fields) -> Shopper:
    """The user's shopper profile, made with `fields` (region, date_of_birth, purchase_limit, …) if missing."""
    with transaction.atomic():
        shopper, created = Shopper.objects.get_or_create(user=user, defaults=fields)
        if created:
            audit_record(
                action="bnpl.shopper_created",
                actor=actor,
                obj=shopper,
                changes={key: str(value) for key, value in fields.items()},
            )
    return shopper


# --- Payment sessions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineInput:
    name: str
    quantity: int
    unit_price: Decimal
    tax_rate: Decimal = Decimal("0")


def session_check(*, amount, currency, lines, shopper_email, locale, reference) -> None:
    errors = {}
    if currency not in SUPPORTED_CURRENCIES:
        errors["currency"] = _("%(currency)s is not supported; use one of %(supported)s.") % {
            "currency": currency,
            "supported": ", ".join(SUPPORTED_CURRENCIES),
        }
    if not isinstance(amount, Decimal) or amount <= 0:
        errors["amount"] = _("The amount must be more than zero.")
    elif currency in SUPPORTED_CURRENCIES and amount != money_round(amount, currency):
        errors["amount"] = _("The amount has more decimal places than its currency.")
    try:
        validate_email(shopper_email)
    except ValidationError:
        errors["shopper_email"] = _("Enter a valid e-mail address.")
    if locale not in Locale.values:
        errors["locale"] = _("Choose one of %(locales)s.") % {"locales": ", ".join(Locale.values)}
    if not reference or len(reference) > 64:
        errors["reference"] = _("Give your order reference, at most 64 characters.")
    line_errors = _lines_check(lines, currency)
    if line_errors:
        errors["order_lines"] = line_errors
    elif "amount" not in errors and "currency" not in errors:
        total = sum((line.quantity * line.unit_price for line in lines), Decimal(0))
        if money_round(total, currency) != amount:
            errors["order_lines"] = _(
                "The order lines add up to %(total)s %(currency)s, not the amount %(amount)s %(currency)s."
            ) % {"total": money_round(total, currency), "amount": amount, "currency": currency}
    if errors:
        raise ValidationError(errors)


def _lines_check(lines, currency) -> list[str]:
    if not lines:
        return [_("Send at least one order line.")]
    if len(lines) > MAX_LINES:
        return [_("Send at most %(count)d order lines.") % {"count": MAX_LINES}]
    cent = minor_unit(currency) if currency in SUPPORTED_CURRENCIES else Decimal("0.01")
    problems = []
    for number, line in enumerate(lines, start=1):
        if not line.name.strip():
            problems.append(_("Line %(number)d: give the item's name.") % {"number": number})
        if line.quantity < 1:
            problems.append(_("Line %(number)d: the quantity must be at least 1.") % {"number": number})
        if line.unit_price < 0 or line.unit_price != line.unit_price.quantize(cent):
            problems.append(
                _("Line %(number)d: the unit price must be zero or more, in whole cents.") % {"number": number}
            )
        if not Decimal(0) <= line.tax_rate <= Decimal(100):
            problems.append(_("Line %(number)d: the tax rate is a percentage from 0 to 100.") % {"number": number})
    return problems


def return_url_check(url: str) -> str:
    """The shop's return address: https, or http on a loopback host while DEBUG (a shop on the laptop)."""
    url = (url or "").strip()
    if not url:
        return ""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    loopback = host in ("127.0.0.1", "localhost", "::1")
    if (
        len(url) > 500
        or not host
        or not (parts.scheme == "https" or (parts.scheme == "http" and loopback and settings.DEBUG))
    ):
        raise ValidationError(
            {"return_url": _("Give an https address to return to the shop (at most 500 characters).")}
        )
    return url


def session_token_new() -> str:
    """The unguessable part of the hosted checkout URL: 256 random bits."""
    return secrets.token_urlsafe(32)


def session_create(
    *,
    actor,
    amount: Decimal,
    currency: str,
    lines: list[LineInput],
    shopper_email: str,
    locale: str,
    reference: str,
    return_url: str = "",
    now=None,
) -> PaymentSession:
    """A payment session of the actor's merchant, open for BNPL_SESSION_TTL_MINUTES."""
    organisation = merchant_organisation_id(actor)
    if organisation is None:
        raise PermissionDenied(_("Only a merchant's people can open payment sessions."))
    session = {
        "amount": amount,
        "currency": currency,
        "lines": lines,
        "shopper_email": shopper_email,
        "locale": locale,
        "reference": reference,
    }
    session_check(**session)
    return_url = return_url_check(return_url)
    with transaction.atomic(durable=True):
        # get(): one merchant per organisation (one-to-one), so no ordering for first() to add.
        try:
            merchant = Merchant.objects.get(organisation_id=organisation)
        except Merchant.DoesNotExist:
            merchant = None
        if merchant is None or not merchant.active:
            raise PermissionDenied(_("Your organisation is not an active BNPL merchant."))
        return session_write(actor=actor, merchant=merchant, now=now, return_url=return_url, **session)


def session_write(
    *,
    actor,
    merchant: Merchant,
    amount: Decimal,
    currency: str,
    lines: list[LineInput],
    shopper_email: str,
    locale: str,
    reference: str,
    return_url: str = "",
    button=None,
    now=None,
) -> PaymentSession:
    """Write a session with its lines and audit event, inside the caller's transaction; the input is
    checked already (`session_check`). For session_create and for a buy button's purchase."""
    now = now or timezone.now()
    session = PaymentSession.objects.create(
        merchant=merchant,
        token=session_token_new(),
        amount=amount,
        currency=currency,
        shopper_email=shopper_email.strip().lower(),
        locale=locale,
        reference=reference,
        return_url=return_url,
        expires_at=now + timedelta(minutes=settings.BNPL_SESSION_TTL_MINUTES),
        created_at=now,
        created_by=actor,
        button=button,
    )
    created_lines = session_lines_write(session, lines)
    changes = {"amount": str(amount), "currency": currency, "reference": reference, "lines": len(lines)}
    if button is not None:
        changes["button"] = button.key
    audit_record(action="bnpl.session_created", actor=actor, obj=session, changes=changes)
    return session_lines_prefetched(session, created_lines)


def session_lines_write(session: PaymentSession, lines: list[LineInput]) -> list[OrderLine]:
    """The session's lines as checked input, numbered from 1 (inside the caller's transaction)."""
    return OrderLine.objects.bulk_create(
        [
            OrderLine(
                session=session,
                position=position,
                name=line.name.strip(),
                quantity=line.quantity,
                unit_price=line.unit_price,
                tax_rate=line.tax_rate,
                line_total=money_round(line.quantity * line.unit_price, session.currency),
            )
            for position, line in enumerate(lines, start=1)
        ]
    )


def session_lines_prefetched(session: PaymentSession, lines: list[OrderLine]) -> PaymentSession:
    """The lines as written, in place of a query: callers answer from this object after the commit."""
    loaded = session.lines.all()
    loaded._result_cache, loaded._prefetch_done = lines, True
    session._prefetched_objects_cache = {"lines": loaded}
    return session


def session_checkout_url(session: PaymentSession) -> str:
    """The hosted checkout's absolute address for the shopper (the page lives at bnpl:checkout)."""
    return settings.PORTAL_BASE_URL.rstrip("/") + reverse("bnpl:checkout", args=[session.token])
