"""Demo data: Delta Shop and Epsilon Store sell with BNPL, client2 has a shopper profile, Delta Shop two sessions.

Everything goes through the services, as back office and a merchant's server would. Running it
again changes nothing.
"""

from datetime import date
from decimal import Decimal

from django.contrib.auth import get_user_model

from portal.accounts.models import Organisation

from . import services
from .demo_orders import demo_orders_ensure
from .demo_shop import demo_shop_key_ensure, demo_shop_return_url
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
        checkout = _checkout_session_ensure(merchant_user)
        if checkout is not None:
            stdout.write(f"  bnpl: client2's demo checkout (log in as client2@example.com): {checkout}")
    if merchant_user is not None and client2 is not None:
        made = demo_orders_ensure(merchant_user=merchant_user, shopper_user=client2)
        stdout.write(f"  bnpl: {made} demo orders of Delta Shop placed")
    if merchant_user is not None:
        webhook_demo_ensure(merchant_user)
        demo_shop_key_ensure(merchant_user, stdout=stdout)
    stdout.write(
        f"  bnpl: {Merchant.objects.count()} merchants, {Shopper.objects.count()} shoppers, "
        f"{PaymentSession.objects.count()} payment sessions"
    )


def _merchant_ensure(admin, organisation: Organisation, name: str) -> None:
    if Merchant.objects.filter(organisation=organisation).exists():
        return
    # The demo never shows the secret; the merchant replaces it from the dashboard before use.
    services.merchant_create(actor=admin, organisation=organisation, trading_name=name)


def _client2_session(merchant_user, reference: str, lines, *, return_url: str = "") -> PaymentSession:
    """A session of the merchant's shop for client2, opened as the shop's server would."""
    line_inputs = [
        services.LineInput(name=name, quantity=quantity, unit_price=Decimal(price), tax_rate=Decimal(tax))
        for name, quantity, price, tax in lines
    ]
    return services.session_create(
        actor=merchant_user,
        amount=sum((line.quantity * line.unit_price for line in line_inputs), Decimal(0)),
        currency="EUR",
        lines=line_inputs,
        shopper_email="client2@example.com",
        locale="en",
        reference=reference,
        return_url=return_url,
    )


def _sessions_ensure(merchant_user) -> None:
    merchant = Merchant.objects.filter(organisation_id=merchant_user.organisation_id).first()
    if merchant is None:
        return
    for reference, lines in SESSIONS:
        if PaymentSession.objects.filter(merchant=merchant, reference=reference).exists():
            continue
        _client2_session(merchant_user, reference, lines)


CHECKOUT_SESSION = ("DELTA-1003", [("Milk frother", 1, "59.00", "19.00"), ("Espresso cups (6)", 1, "34.00", "19.00")])
# The demo's checkout stays open for a month, so `make demo` today still shows it next week; real
# sessions live BNPL_SESSION_TTL_MINUTES.
CHECKOUT_DEMO_DAYS = 30


def _checkout_session_ensure(merchant_user) -> str | None:
    """An open session of Delta Shop for client2, to walk through the hosted checkout; its URL."""
    from datetime import timedelta

    from django.utils import timezone

    merchant = Merchant.objects.filter(organisation_id=merchant_user.organisation_id).first()
    if merchant is None:
        return None
    reference, lines = CHECKOUT_SESSION
    session = PaymentSession.objects.filter(merchant=merchant, reference=reference).first()
    if session is None or not session.is_open():
        if session is not None:  # used or lapsed: the demo offers a fresh one under a new reference
            reference = f"{reference}-{PaymentSession.objects.filter(merchant=merchant).count()}"
        session = _client2_session(merchant_user, reference, lines, return_url=demo_shop_return_url())
        PaymentSession.objects.filter(pk=session.pk).update(
            expires_at=timezone.now() + timedelta(days=CHECKOUT_DEMO_DAYS)
        )
    return services.session_checkout_url(session)


# --- The decision module ---------------------------------------------------------------------------

DEFAULT_RULES = [
    ("KYC passed", "kyc_passed", "is_true", ""),
    ("Within the purchase limit", "within_purchase_limit", "is_true", ""),
    ("No overdue instalment", "overdue_instalments", "le", "0"),
    ("At most three open plans", "open_plans", "le", "3"),
    ("Of age", "age", "ge", "18"),
]
ANALYST = ("analyst@example.com", "Anna", "Lytik")
REVIEW_ORDER = ("DELTA-3001", "Road bike", Decimal("2400.00"))


def decisions_demo_step(*, scale: str, stdout) -> None:
    """The default rules, a credit analyst, and one of client2's orders over the limit prepared for approval."""
    from .decision_rules import credit_rule_create
    from .models import CreditRule

    users = get_user_model().objects.in_bulk(["admin@example.com", "client2@example.com"], field_name="email")
    admin = users.get("admin@example.com")
    if admin is None:
        stdout.write("  bnpl decisions: the demo cast is missing; nothing to do.")
        return
    for position, (name, fact, operator, value) in enumerate(DEFAULT_RULES, start=1):
        if not CreditRule.objects.filter(name=name).exists():
            credit_rule_create(
                actor=admin, name=name, fact=fact, operator=operator, value=value, position=position * 10
            )
    analyst = _analyst_ensure()
    shopper = Shopper.objects.filter(user=users.get("client2@example.com")).first()
    merchant = Merchant.objects.filter(organisation__name="Delta Shop").first()
    if shopper is not None and merchant is not None:
        _order_in_review_ensure(merchant, shopper, analyst)
    stdout.write(f"  bnpl decisions: {CreditRule.objects.count()} credit rules, an order waiting for approval")


def _analyst_ensure():
    """analyst@example.com, a credit analyst, made the way the demo cast is (portal/shell/demo.py)."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group

    from portal.accounts.roles import Role
    from portal.shell.demo import DEMO_PASSWORD

    email, first, last = ANALYST
    operations = Organisation.objects.filter(name="Partnerzone Operations").first()
    analyst, created = get_user_model().objects.get_or_create(
        email=email,
        defaults={
            "first_name": first,
            "last_name": last,
            "organisation": operations,
            "is_staff": True,
            "language": "en",
            "password": make_password(DEMO_PASSWORD),
        },
    )
    if created:
        analyst.groups.add(Group.objects.get_or_create(name=Role.CREDIT_ANALYST)[0])
        EmailAddress.objects.get_or_create(user=analyst, email=email, defaults={"verified": True, "primary": True})
    return analyst


def _order_in_review_ensure(merchant, shopper, analyst) -> None:
    from django.db import transaction

    from .decisions import decide_order, purchase_review_prepare
    from .models import Order, OrderLine

    reference, item, amount = REVIEW_ORDER
    if Order.objects.filter(merchant=merchant, reference=reference).exists():
        return
    # The checkout places orders in the real flow; the demo places this one as it would.
    with transaction.atomic():
        order = Order.objects.create(
            merchant=merchant,
            shopper=shopper,
            reference=reference,
            amount=amount,
            currency="EUR",
            option_key="monthly_12",
        )
        OrderLine.objects.create(
            order=order, name=item, quantity=1, unit_price=amount, tax_rate=Decimal("19.00"), line_total=amount
        )
    decide_order(order_id=order.pk)
    purchase_review_prepare(
        actor=analyst,
        order_id=order.pk,
        recommendation="approve",
        note="Over the limit, but a steady payer; the bike is the whole order.",
    )
