"""The bnpl demo step: two merchants with their people, a shopper, three sessions (one kept open for the
hosted checkout); a second run changes nothing."""

import io

import pytest

from bnpl.demo import demo_step
from bnpl.models import Merchant, OrderLine, PaymentSession, Shopper
from portal.accounts.roles import Role
from portal.audit.models import AuditEvent
from portal.shell.demo import cast_ensure

pytestmark = pytest.mark.django_db


def test_the_demo_makes_two_shops_a_shopper_and_three_sessions_once():
    users = cast_ensure()
    printed = io.StringIO()
    demo_step(scale="small", stdout=printed)
    counts = (
        Merchant.objects.count(),
        Shopper.objects.count(),
        PaymentSession.objects.count(),
        AuditEvent.objects.count(),
    )

    cast_ensure()
    demo_step(scale="small", stdout=io.StringIO())

    assert (
        Merchant.objects.count(),
        Shopper.objects.count(),
        PaymentSession.objects.count(),
        AuditEvent.objects.count(),
    ) == counts
    assert set(Merchant.objects.values_list("organisation__name", flat=True)) == {"Delta Shop", "Epsilon Store"}
    for login in ("merchant", "merchant2"):
        assert Role.MERCHANT in users[login].roles and users[login].organisation.kind == "merchant"
    assert Shopper.objects.get().user == users["client2"]
    sessions = PaymentSession.objects.filter(merchant__organisation__name="Delta Shop")
    assert sessions.count() == 3
    checkout = sessions.get(reference="DELTA-1003")
    assert checkout.is_open() and checkout.shopper_email == "client2@example.com"
    assert f"/bnpl/checkout/{checkout.token}/" in printed.getvalue()
    for session in sessions:
        assert sum(line.line_total for line in OrderLine.objects.filter(session=session)) == session.amount


def test_the_demo_gives_delta_shop_two_buy_buttons_and_an_instant_purchase_once():
    from bnpl.instant_demo import instant_demo_step
    from bnpl.models import BuyButton, MerchantConfirmation

    cast_ensure()
    demo_step(scale="small", stdout=io.StringIO())
    instant_demo_step(scale="small", stdout=io.StringIO())
    instant_demo_step(scale="small", stdout=io.StringIO())

    delta = BuyButton.objects.filter(merchant__organisation__name="Delta Shop")
    assert sorted(delta.values_list("name", flat=True)) == ["Coffee grinder", "Espresso machine"]
    assert all(button.active and button.shipping_options.count() >= 2 for button in delta)
    confirmation = MerchantConfirmation.objects.get()
    assert confirmation.outcome == MerchantConfirmation.Outcome.CONFIRMED_BY_DEFAULT
    assert confirmation.session.button.name == "Coffee grinder" and confirmation.session.is_open()
