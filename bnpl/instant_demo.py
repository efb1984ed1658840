"""Demo data of instant shopping: Delta Shop's two buy buttons, and client2's purchase from one of them,
confirmed by default (the demo shops have no server to answer a confirmation request, so their
confirmation URL stays empty; docs/bnpl-instant.md).

Everything goes through the services, as the shop's people and the shopper would. Running it again
changes nothing.
"""

from decimal import Decimal

from django.contrib.auth import get_user_model

from . import buttons, instant
from .buttons import ButtonInput, ShippingInput
from .models import BuyButton, PaymentSession

BUTTONS = [
    (
        "Espresso machine",
        "Dual boiler, PID temperature control, 2 l water tank.",
        "449.00",
        [("Standard (3–5 days)", "4.90"), ("Express (next day)", "12.90"), ("Pick-up in store", "0.00")],
    ),
    (
        "Coffee grinder",
        "Conical burrs, 40 grind settings, stepless timer.",
        "129.00",
        [("Standard (3–5 days)", "4.90"), ("Express (next day)", "9.90")],
    ),
]


def instant_demo_step(*, scale: str, stdout) -> None:
    users = get_user_model().objects.in_bulk(["merchant@example.com", "client2@example.com"], field_name="email")
    merchant_user, shopper = users.get("merchant@example.com"), users.get("client2@example.com")
    if merchant_user is None:
        stdout.write("  bnpl instant shopping: the demo cast is missing; nothing to do.")
        return
    made = {}
    for name, description, price, options in BUTTONS:
        button = BuyButton.objects.filter(merchant__organisation_id=merchant_user.organisation_id, name=name).first()
        made[name] = button or buttons.button_create(
            actor=merchant_user,
            product=ButtonInput(
                name=name,
                description=description,
                unit_price=Decimal(price),
                currency="EUR",
                tax_rate=Decimal("19.00"),
                shipping_options=[ShippingInput(option, Decimal(cost)) for option, cost in options],
            ),
        )
    grinder = made["Coffee grinder"]
    if shopper is not None and not PaymentSession.objects.filter(button=grinder).exists():
        session = buttons.button_purchase(
            actor=shopper, key=grinder.key, shipping_option_id=grinder.shipping_options.first().pk, quantity=1
        )
        instant.merchant_confirm(session=session)
    stdout.write(f"  bnpl instant shopping: {len(made)} buy buttons of Delta Shop, e.g. {buttons.buy_url(grinder)}")
