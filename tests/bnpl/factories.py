"""bnpl's objects for tests: merchants, shoppers, sessions, orders with plans."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from bnpl import services
from bnpl.models import Instalment, Merchant, Order, OrderLine, PaymentSession, Plan, Shopper
from portal.accounts.models import Organisation
from portal.accounts.roles import Role
from tests.factories import OrganisationFactory, UserFactory


def merchant_for(organisation, *, actor=None, **fields) -> Merchant:
    """The organisation's merchant, set up through the service (with a sealed webhook secret)."""
    existing = Merchant.objects.filter(organisation=organisation).first()
    if existing is not None:
        return existing
    merchant, _secret = services.merchant_create(
        actor=actor, organisation=organisation, trading_name=fields.pop("trading_name", organisation.name), **fields
    )
    return merchant


def merchant_with_user(name: str, email: str):
    """A second shop: a merchant organisation, its BNPL merchant and one merchant user."""
    organisation = OrganisationFactory(name=name, kind=Organisation.Kind.MERCHANT)
    user = UserFactory(email=email, organisation=organisation, roles=[Role.MERCHANT])
    return merchant_for(organisation), user


class ShopperFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shopper
        django_get_or_create = ["user"]

    user = factory.SubFactory(UserFactory, roles=[Role.CLIENT])
    region = "DE-BE"
    purchase_limit = Decimal("1000.00")


class PaymentSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PaymentSession

    merchant = None
    token = factory.LazyFunction(services.session_token_new)
    amount = Decimal("100.00")
    currency = "EUR"
    shopper_email = "shopper@example.com"
    reference = factory.Sequence(lambda n: f"S-{n:05d}")
    created_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(lambda o: o.created_at + timedelta(hours=1))


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    merchant = None
    shopper = factory.SubFactory(ShopperFactory)
    reference = factory.Sequence(lambda n: f"O-{n:05d}")
    amount = Decimal("100.00")
    currency = "EUR"
    option_key = "pay_in_4"
    state = Order.State.APPROVED


def order_with_plan(*, merchant, shopper, amount=Decimal("100.00"), **fields) -> Order:
    """An order with one line and a pay-in-4 plan of four instalments, waiting for shipment."""
    order = OrderFactory(merchant=merchant, shopper=shopper, amount=amount, **fields)
    OrderLine.objects.create(order=order, name="Item", quantity=1, unit_price=amount, line_total=amount)
    plan = Plan.objects.create(
        order=order,
        option_key="pay_in_4",
        nominal_rate=0,
        apr=0,
        total_payable=amount,
        total_cost_of_credit=0,
        currency=order.currency,
    )
    part = (amount / 4).quantize(Decimal("0.01"))
    Instalment.objects.bulk_create(
        [
            Instalment(
                plan=plan,
                number=n,
                amount=part if n < 4 else amount - 3 * part,
                principal=part if n < 4 else amount - 3 * part,
                interest=0,
            )
            for n in range(1, 5)
        ]
    )
    return order
