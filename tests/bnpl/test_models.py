"""The core data model's rules, held by the database itself, and the pricing contract's shape."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from bnpl import pricing, services
from bnpl.models import Instalment, Merchant, Order, OrderLine, PaymentSession, Plan
from bnpl.money import money_round
from portal.audit.models import AuditEvent

from .factories import OrderFactory, PaymentSessionFactory

pytestmark = pytest.mark.django_db


def refused(make) -> bool:
    try:
        with transaction.atomic():
            make()
    except IntegrityError:
        return True
    return False


def test_a_merchant_keeps_its_webhook_secret_sealed_and_shows_it_once(cast):
    merchant, secret = services.merchant_create(
        actor=cast.admin, organisation=cast.merchant.organisation, trading_name="Delta Shop"
    )

    assert secret.startswith("whsec_") and len(secret) == 46
    assert secret not in merchant.webhook_secret_sealed
    assert merchant.webhook_secret() == secret
    assert secret.startswith(merchant.webhook_secret_prefix) and len(merchant.webhook_secret_prefix) == 12
    event = AuditEvent.objects.get(action="bnpl.merchant_created")
    assert secret not in str(event.changes)


def test_rotating_the_webhook_secret_replaces_it(cast, shops):
    old = shops.delta.webhook_secret()

    with pytest.raises(PermissionDenied):
        services.merchant_webhook_secret_rotate(
            actor=cast.merchant, second_factor_verified=False, merchant_id=shops.delta.pk
        )
    with pytest.raises(PermissionDenied):
        services.merchant_webhook_secret_rotate(
            actor=shops.merchant2, second_factor_verified=True, merchant_id=shops.delta.pk
        )
    shops.delta.refresh_from_db()
    assert shops.delta.webhook_secret() == old

    merchant, secret = services.merchant_webhook_secret_rotate(
        actor=cast.merchant, second_factor_verified=True, merchant_id=shops.delta.pk
    )

    merchant.refresh_from_db()
    assert secret != old and merchant.webhook_secret() == secret
    assert AuditEvent.objects.filter(action="bnpl.webhook_secret_rotated", object_id=str(merchant.pk)).exists()


def test_only_a_merchant_organisation_becomes_a_merchant(cast):
    with pytest.raises(Exception, match="kind merchant"):
        services.merchant_create(actor=cast.admin, organisation=cast.alpha, trading_name="Alpha")
    assert not Merchant.objects.exists()


def test_currencies_are_three_upper_case_letters(shops):
    assert refused(lambda: PaymentSessionFactory(merchant=shops.delta, currency="eur"))
    assert refused(lambda: OrderFactory(merchant=shops.delta, currency="EU"))
    assert not refused(lambda: PaymentSessionFactory(merchant=shops.delta, currency="SEK"))


def test_amounts_are_never_negative(shops):
    plan = shops.delta_order2.plan
    assert refused(lambda: PaymentSessionFactory(merchant=shops.delta, amount=Decimal("-1.00")))
    assert refused(lambda: OrderFactory(merchant=shops.delta, amount=Decimal("0.00")))
    assert refused(
        lambda: Instalment.objects.create(plan=plan, number=9, amount=Decimal("-5"), principal=0, interest=0)
    )
    assert refused(
        lambda: OrderLine.objects.create(
            order=shops.delta_order2, name="x", quantity=1, unit_price=Decimal("-1"), line_total=0
        )
    )
    assert refused(
        lambda: OrderLine.objects.create(
            order=shops.delta_order2, name="x", quantity=0, unit_price=Decimal("1"), line_total=0
        )
    )


def test_a_refund_never_exceeds_the_order(shops):
    order = shops.delta_order2
    Order.objects.filter(pk=order.pk).update(refunded_amount=Decimal("100.00"))
    assert refused(lambda: Order.objects.filter(pk=order.pk).update(refunded_amount=Decimal("100.01")))


def test_an_order_reference_is_unique_per_merchant_only(shops):
    assert refused(lambda: OrderFactory(merchant=shops.delta, shopper=shops.client2, reference="D-2"))
    assert not refused(lambda: OrderFactory(merchant=shops.epsilon, shopper=shops.client2, reference="D-2"))


def test_an_instalment_number_is_unique_per_plan(shops):
    plan = shops.delta_order2.plan
    assert refused(lambda: Instalment.objects.create(plan=plan, number=1, amount=1, principal=1, interest=0))
    assert plan.instalments.count() == 4


def test_a_plan_starts_only_with_a_date_and_a_shipped_order_has_one(shops):
    plan = shops.delta_order2.plan
    assert refused(lambda: Plan.objects.filter(pk=plan.pk).update(state=Plan.State.ACTIVE))
    assert not refused(
        lambda: Plan.objects.filter(pk=plan.pk).update(state=Plan.State.ACTIVE, start_date=date(2026, 3, 1))
    )
    assert refused(lambda: Order.objects.filter(pk=plan.order_id).update(state=Order.State.SHIPPED))


def test_an_order_line_belongs_to_a_session_or_an_order(shops):
    assert refused(lambda: OrderLine.objects.create(name="x", quantity=1, unit_price=1, line_total=1))


def test_an_open_session_reads_expired_after_its_expiry(shops):
    session = PaymentSessionFactory(merchant=shops.delta)

    assert session.current_state() == PaymentSession.State.OPEN
    assert session.current_state(session.expires_at) == PaymentSession.State.EXPIRED
    session.state = PaymentSession.State.USED
    assert session.current_state(session.expires_at + timedelta(days=1)) == PaymentSession.State.USED


def test_money_is_rounded_half_up_and_never_a_float():
    assert money_round(Decimal("0.125"), "EUR") == Decimal("0.13")
    assert money_round(Decimal("-0.125"), "EUR") == Decimal("-0.13")
    with pytest.raises(TypeError):
        money_round(0.1, "EUR")


@pytest.mark.parametrize("amount", ["100.00", "99.99", "35.03", "999.97"])  # within pay in 4's range
def test_the_pricing_contract_offers_pay_in_4_that_adds_up_to_the_amount(amount):
    start = timezone.localdate()

    options = pricing.payment_options(amount=Decimal(amount), currency="EUR", start=start)

    assert isinstance(options, list) and all(isinstance(o, pricing.PaymentOption) for o in options)
    pay_in_4 = next(o for o in options if o.key == "pay_in_4")
    assert pay_in_4.instalments == 4 and len(pay_in_4.schedule) == 4
    assert [p.number for p in pay_in_4.schedule] == [1, 2, 3, 4]
    assert sum(p.amount for p in pay_in_4.schedule) == pay_in_4.total_payable == Decimal(amount)
    assert pay_in_4.total_cost_of_credit == 0 and pay_in_4.currency == "EUR"
    assert all(isinstance(p.amount, Decimal) and p.amount.as_tuple().exponent == -2 for p in pay_in_4.schedule)
    assert pay_in_4.schedule[0].due_date >= start
    assert all(a.due_date < b.due_date for a, b in zip(pay_in_4.schedule, pay_in_4.schedule[1:], strict=False))
