"""The credit agreement of a checkout as data: one canonical document, its hash, its PDF, its signer.

The document holds everything the shopper accepts: the creditor, the shopper, the shop and order,
the lines, the option with its amounts, rates and schedule, the account it is collected from and
the right of withdrawal. Its SHA-256 (sorted, compact UTF-8 JSON) is written into the signing
request's text, which signing hashes in turn: the SMS code is bound to these figures, and any
change to a line, the amount, the option or the schedule gives another hash and voids the code.

Who sends the signing request: the creditor (not the shop) is the party of the agreement, so the
sender is one BNPL service user ("BNPL credit agreements"), no person and no login (unusable
password). signing lets it write requests through `register_writer` and reaches the shopper
through `ShopperBook`, the address book BNPL registers; signing imports nothing of bnpl.
"""

import hashlib
import json
from datetime import date

from django.conf import settings
from django.contrib.auth import get_user_model
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from portal.pdf import pdf_from_html
from signing.addressbook import Addressee

from .models import Shopper

FORMAT = "partnerzone-bnpl-credit-agreement/1"
WITHDRAWAL_DAYS = 14
SERVICE_EMAIL = "bnpl-agreements@service.partnerzone.invalid"
ORIGIN = "bnpl.contract"


def _money(value) -> str:
    return f"{value:.2f}"


def agreement_document(*, session, shopper, option, mandate, today: date) -> dict:
    """The canonical content of the agreement (plain strings and numbers, hashable the same every time)."""
    user = shopper.user
    return {
        "format": FORMAT,
        "creditor": {"name": settings.BNPL_CREDITOR_NAME, "address": settings.BNPL_CREDITOR_ADDRESS},
        "shop": {"name": session.merchant.trading_name, "order_reference": session.reference},
        "session": session.token,
        "consumer": {
            "name": user.get_full_name(),
            "email": user.email,
            "date_of_birth": shopper.date_of_birth.isoformat() if shopper.date_of_birth else "",
            "region": shopper.region,
        },
        "lines": [
            {
                "name": line.name,
                "quantity": line.quantity,
                "unit_price": _money(line.unit_price),
                "tax_rate": f"{line.tax_rate:.2f}",
                "line_total": _money(line.line_total),
            }
            for line in session.lines.all()
        ],
        "currency": session.currency,
        "option": option.key,
        "total_amount_of_credit": _money(option.amount),
        "instalments": option.instalments,
        "nominal_rate": f"{option.nominal_rate:.2f}",
        "apr": f"{option.apr:.1f}",
        "total_cost_of_credit": _money(option.total_cost_of_credit),
        "total_payable": _money(option.total_payable),
        # Due dates count from the shipment; the schedule shows the amounts and the spacing priced today.
        "priced_on": today.isoformat(),
        "schedule": [
            {
                "number": payment.number,
                "offset_days": (payment.due_date - today).days,
                "amount": _money(payment.amount),
                "principal": _money(payment.principal),
                "interest": _money(payment.interest),
            }
            for payment in option.schedule
        ],
        "direct_debit": {
            "mandate": mandate.reference if mandate else "",
            "account_holder": mandate.account_holder if mandate else "",
            "iban": mandate.iban if mandate else "",
        },
        "withdrawal_days": WITHDRAWAL_DAYS,
    }


def document_hash(document: dict) -> str:
    data = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.sha256(data).hexdigest()


def fingerprint(content_hash: str) -> str:
    head = content_hash[:16].upper()
    return " ".join(head[i : i + 4] for i in range(0, len(head), 4))


def signing_text(document: dict, content_hash: str, *, language: str) -> tuple[str, str]:
    """The signing request's title and text: the key figures and the agreement's hash, which binds the code."""
    with translation.override(language):
        title = _("Credit agreement for order %(reference)s at %(shop)s") % {
            "reference": document["shop"]["order_reference"],
            "shop": document["shop"]["name"],
        }
        text = _(
            "Credit of %(credit)s %(currency)s from %(creditor)s, paid back in %(count)d instalments; "
            "total payable %(total)s %(currency)s, nominal rate %(rate)s %%, APR %(apr)s %%. "
            "Agreement SHA-256: %(hash)s"
        ) % {
            "credit": document["total_amount_of_credit"],
            "currency": document["currency"],
            "creditor": document["creditor"]["name"],
            "count": document["instalments"],
            "total": document["total_payable"],
            "rate": document["nominal_rate"],
            "apr": document["apr"],
            "hash": content_hash,
        }
    return title[:200], text


def agreement_pdf_render(document: dict, content_hash: str, *, language: str) -> bytes:
    with translation.override(language):
        html = render_to_string(
            "bnpl/pdf/credit_agreement.html",
            {"doc": document, "content_hash": content_hash, "fingerprint": fingerprint(content_hash)},
        )
    return pdf_from_html(html, identifier=f"pz-bnpl-agreement-{content_hash[:32]}".encode())


# --- the sender and the address book signing asks -------------------------------------------------


def service_user():
    """The BNPL service user that sends credit agreements for signature (made on first use)."""
    from portal.notifications.models import NotificationPreference

    user, created = get_user_model().objects.get_or_create(
        email=SERVICE_EMAIL, defaults={"first_name": "BNPL", "last_name": "credit agreements"}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        # Nobody reads its mailbox: what signing tells a sender stays in-app.
        NotificationPreference.objects.bulk_create(
            [
                NotificationPreference(user=user, event=event, in_app=True, email=False, sms=False)
                for event in ("signing.request_signed", "signing.request_declined", "signing.request_expired")
            ],
            ignore_conflicts=True,
        )
    return user


def is_service_user(actor) -> bool:
    return bool(
        getattr(actor, "is_authenticated", False) and actor.email == SERVICE_EMAIL and not actor.has_usable_password()
    )


class ShopperBook:
    """The service user addresses a shopper by their profile's id; nobody else addresses shoppers here.

    It lists nobody: the service user never browses, it writes to one shopper at a time.
    """

    def addressees(self, *, actor) -> list[Addressee]:
        return []

    def addressee(self, *, actor, key: str) -> Addressee | None:
        if not is_service_user(actor) or not str(key).startswith("shopper:"):
            return None
        try:
            pk = int(str(key).removeprefix("shopper:"))
        except ValueError:
            return None
        shopper = Shopper.objects.select_related("user").filter(pk=pk, user__is_active=True).first()
        if shopper is None:
            return None
        user = shopper.user
        return Addressee(key=f"shopper:{shopper.pk}", user_id=user.pk, label=user.get_full_name() or user.email)

    def accounts(self, *, actor, key: str) -> list:
        return []
