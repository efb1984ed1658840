"""Demo data: Delta Shop and Epsilon Store sell with BNPL, client2 has a shopper profile, Delta Shop two sessions.

Everything goes through the services, as back office and a merchant's server would. Running it
again changes nothing.
"""

from datetime import date
from decimal import Decimal

from django.contrib.auth import get_user_model

from portal.accounts.models import Organisation

from . import services
from .models import Merchant, PaymentSession, Shopper
from .webhook_demo import webhook_demo_ensure

# The shops' webhook addresses stay empty here: the demo's receiver is the webhook branch's business.
SHOPS = [("merchant@example.com", "Delta Shop"), ("merchant2@example.com", "Epsilon Store")]
SESSIONS = [
    ("DELTA-1001", [("Espresso machine", 1, "249.00", "19.00"), ("Coffee beans 1 kg", 2, "18.50", "7.00")]),
    ("DELTA-1002", [("Trail running shoes", 1, "129.90", "19.00")]),
]


def demo_step(*, scale: str, stdout) -> None:
    users = get_user_model().objects.in_bulk(
        ["admin@example.com", "client2@example.com", *(email for email, _ in SHOPS)], field_name="email"
    )
    admin = users.get("admin@example.com")
    if admin is None:
        stdout.write("  bnpl: the demo cast is missing; nothing to do.")
        return
    for email, name in SHOPS:
        person = users.get(email)
        if person is None or person.organisation is None:
            continue
        _merchant_ensure(admin, person.organisation, name)
    client2 = users.get("client2@example.com")
    if client2 is not None:
        services.shopper_profile_ensure(
            actor=admin,
            user=client2,
            region="DE-BE",
            date_of_birth=date(1988, 5, 14),
            purchase_limit=Decimal("1500.00"),
            purchase_limit_currency="EUR",
        )
    merchant_user = users.get("merchant@example.com")
    if merchant_user is not None:
        _sessions_ensure(merchant_user)
    if merchant_user is not None:
        webhook_demo_ensure(merchant_user)
    stdout.write(
        f"  bnpl: {Merchant.objects.count()} merchants, {Shopper.objects.count()} shoppers, "
        f"{PaymentSession.objects.count()} payment sessions"
    )


def _merchant_ensure(admin, organisation: Organisation, name: str) -> None:
    if Merchant.objects.filter(organisation=organisation).exists():
        return
    # The demo never shows the secret; the merchant replaces it from the dashboard before use.
    services.merchant_create(actor=admin, organisation=organisation, trading_name=name)


def _sessions_ensure(merchant_user) -> None:
    merchant = Merchant.objects.filter(organisation_id=merchant_user.organisation_id).first()
    if merchant is None:
        return
    for reference, lines in SESSIONS:
        if PaymentSession.objects.filter(merchant=merchant, reference=reference).exists():
            continue
        line_inputs = [
            services.LineInput(name=name, quantity=quantity, unit_price=Decimal(price), tax_rate=Decimal(tax))
            for name, quantity, price, tax in lines
        ]
        services.session_create(
            actor=merchant_user,
            amount=sum((line.quantity * line.unit_price for line in line_inputs), Decimal(0)),
            currency="EUR",
            lines=line_inputs,
            shopper_email="client2@example.com",
            locale="en",
            reference=reference,
        )
