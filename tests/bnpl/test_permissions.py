"""Who reaches which bnpl objects: every role of the cast × every model, through the policies and admin."""

import pytest
from django.urls import reverse

from bnpl.models import Instalment, Merchant, Order, OrderLine, PaymentSession, Plan, Shopper
from bnpl.permissions import orders as order_policy
from portal.accounts.roles import Role
from tests.factories import UserFactory

from .factories import PaymentSessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(cast, shops):
    shops.delta_session = PaymentSessionFactory(merchant=shops.delta, reference="DS-1")
    shops.epsilon_session = PaymentSessionFactory(merchant=shops.epsilon, reference="ES-1")
    shops.analyst = UserFactory(email="analyst@example.com", roles=[Role.CREDIT_ANALYST])
    return shops


def actors(cast, world) -> dict:
    return {
        "merchant": cast.merchant,
        "merchant2": world.merchant2,
        "client2": cast.client2,
        "client3": cast.client3,
        "backoffice": cast.backoffice,
        "analyst": world.analyst,
        "broker1": cast.broker1,
        "manager": cast.manager,
        "partner": cast.partner,
        "client1": cast.client1,
        "outsider": cast.outsider,
    }


def expected(world) -> dict:
    """What each actor may see, per model, by a label of the object."""
    everything = {
        "merchants": {"delta", "epsilon"},
        "shoppers": {"client2", "client3"},
        "sessions": {"DS-1", "ES-1"},
        "orders": {"D-2", "D-3", "E-3"},
    }
    nothing = {"merchants": set(), "shoppers": set(), "sessions": set(), "orders": set()}
    return {
        "merchant": {"merchants": {"delta"}, "shoppers": set(), "sessions": {"DS-1"}, "orders": {"D-2", "D-3"}},
        "merchant2": {"merchants": {"epsilon"}, "shoppers": set(), "sessions": {"ES-1"}, "orders": {"E-3"}},
        "client2": {"merchants": set(), "shoppers": {"client2"}, "sessions": set(), "orders": {"D-2"}},
        "client3": {"merchants": set(), "shoppers": {"client3"}, "sessions": set(), "orders": {"D-3", "E-3"}},
        "backoffice": everything,
        "analyst": everything,
        "broker1": nothing,
        "manager": nothing,
        "partner": nothing,
        "client1": nothing,
        "outsider": nothing,
    }


def seen(actor, world) -> dict:
    merchant_names = {world.delta.pk: "delta", world.epsilon.pk: "epsilon"}
    return {
        "merchants": {merchant_names[pk] for pk in Merchant.objects.restrict(actor).values_list("pk", flat=True)},
        "shoppers": {
            email.split("@")[0] for email in Shopper.objects.restrict(actor).values_list("user__email", flat=True)
        },
        "sessions": set(PaymentSession.objects.restrict(actor).values_list("reference", flat=True)),
        "orders": set(Order.objects.restrict(actor).values_list("reference", flat=True)),
    }


def test_each_actor_sees_exactly_their_objects(cast, world):
    for name, actor in actors(cast, world).items():
        assert seen(actor, world) == expected(world)[name], name


def test_plans_instalments_and_lines_follow_their_order(cast, world):
    for name, actor in actors(cast, world).items():
        orders = expected(world)[name]["orders"]
        assert set(Plan.objects.restrict(actor).values_list("order__reference", flat=True)) == orders, name
        assert set(Instalment.objects.restrict(actor).values_list("plan__order__reference", flat=True)) == orders, name
        lines = set(OrderLine.objects.restrict(actor).values_list("order__reference", "session__reference"))
        expected_lines = {(reference, None) for reference in orders}
        assert lines == expected_lines, name
        assert Instalment.objects.restrict(actor).count() == 4 * len(orders), name


def test_session_lines_are_seen_by_their_merchant_only(cast, world):
    line = OrderLine.objects.create(session=world.delta_session, name="x", quantity=1, unit_price=1, line_total=1)

    assert OrderLine.objects.restrict(cast.merchant).filter(pk=line.pk).exists()
    assert not OrderLine.objects.restrict(world.merchant2).filter(pk=line.pk).exists()
    assert not OrderLine.objects.restrict(cast.client2).filter(pk=line.pk).exists()


def test_the_policy_decides_one_loaded_object_as_the_list_does(cast, world):
    for name, actor in actors(cast, world).items():
        for order in Order.objects.select_related("merchant", "shopper"):
            assert order_policy.has(actor, order) == (order.reference in expected(world)[name]["orders"]), name


def test_only_the_merchants_people_operate_their_orders(cast, world):
    assert set(Order.objects.restrict(cast.merchant, "operate").values_list("reference", flat=True)) == {"D-2", "D-3"}
    assert set(Order.objects.restrict(world.merchant2, "operate").values_list("reference", flat=True)) == {"E-3"}
    for actor in (cast.backoffice, world.analyst, cast.client3, cast.outsider):
        assert not Order.objects.restrict(actor, "operate").exists()


def test_a_merchant_user_of_an_organisation_without_a_merchant_sees_nothing(cast, world):
    stray = UserFactory(email="stray@example.com", organisation=cast.alpha, roles=[Role.MERCHANT])

    assert seen(stray, world) == {"merchants": set(), "shoppers": set(), "sessions": set(), "orders": set()}


def test_an_inactive_user_sees_nothing(cast, world):
    cast.merchant.is_active = False
    cast.merchant.save(update_fields=["is_active"])

    assert seen(cast.merchant, world) == {"merchants": set(), "shoppers": set(), "sessions": set(), "orders": set()}


# --- Admin ----------------------------------------------------------------------------------------


def test_back_office_reads_every_order_in_admin_and_deletes_none(cast, world, login_as):
    client = login_as(cast.backoffice)

    listing = client.get(reverse("admin:bnpl_order_changelist"))
    assert listing.status_code == 200
    assert all(reference in listing.content.decode() for reference in ("D-2", "D-3", "E-3"))
    order = world.delta_order2
    page = client.get(reverse("admin:bnpl_order_change", args=[order.pk]))
    assert page.status_code == 200
    assert client.post(reverse("admin:bnpl_order_delete", args=[order.pk]), {"post": "yes"}).status_code == 403
    assert client.post(reverse("admin:bnpl_plan_delete", args=[order.plan.pk]), {"post": "yes"}).status_code == 403
    assert Order.objects.filter(pk=order.pk).exists() and Plan.objects.filter(pk=order.plan.pk).exists()


def test_money_cannot_be_changed_in_admin(cast, world, login_as):
    order = world.delta_order2
    client = login_as(cast.admin)

    client.post(
        reverse("admin:bnpl_order_change", args=[order.pk]),
        {
            "amount": "1.00",
            "refunded_amount": "50.00",
            "state": "refunded",
            "carrier": "DHL",
            "tracking_number": "JJD000390007",
            "lines-TOTAL_FORMS": "0",
            "lines-INITIAL_FORMS": "1",
        },
    )

    order.refresh_from_db()
    assert order.amount == 100 and order.refunded_amount == 0 and order.state == Order.State.APPROVED
    assert order.tracking_number == "JJD000390007"


def test_a_merchant_created_in_admin_gets_a_secret_shown_once(cast, login_as):
    client = login_as(cast.admin)

    response = client.post(
        reverse("admin:bnpl_merchant_add"),
        {
            "organisation": cast.merchant.organisation_id,
            "trading_name": "Delta",
            "default_currency": "EUR",
            "active": "on",
        },
        follow=True,
    )

    merchant = Merchant.objects.get()
    assert merchant.webhook_secret() in response.content.decode()
    assert (
        merchant.webhook_secret()
        not in client.get(reverse("admin:bnpl_merchant_change", args=[merchant.pk])).content.decode()
    )


def test_admin_shows_a_merchant_user_nothing(cast, world, login_as):
    response = login_as(cast.merchant).get(reverse("admin:bnpl_order_changelist"))

    assert response.status_code == 302 and "/login" in response["Location"]
