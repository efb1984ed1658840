"""The merchant dashboard: a shop's own orders (filters, CSV), settlement totals, webhooks, URL and secret."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from bnpl.models import Order, WebhookAttempt, WebhookDelivery
from portal.accounts.models import Organisation
from portal.accounts.roles import Role
from portal.audit.models import AuditEvent
from tests.factories import OrganisationFactory, UserFactory

from .factories import OrderFactory, order_with_plan

State = WebhookDelivery.State
ORDERS = reverse("bnpl:merchant-orders")
EXPORT = reverse("bnpl:merchant-orders-export")
WEBHOOKS = reverse("bnpl:merchant-webhooks")
SETTINGS = reverse("bnpl:merchant-settings")
ROTATE = reverse("bnpl:merchant-secret-rotate")


def delivery_for(merchant, *, state=State.DELIVERED, attempts=(200,), order=None):
    delivery = WebhookDelivery.objects.create(
        merchant=merchant,
        event="order.shipped",
        order=order,
        payload={"reference": order.reference if order else ""},
        state=state,
        attempts=len(attempts),
        delivered_at=timezone.now() if state == State.DELIVERED else None,
        last_status_code=attempts[-1] if attempts else None,
    )
    WebhookAttempt.objects.bulk_create(
        [WebhookAttempt(delivery=delivery, status_code=code, duration_ms=12) for code in attempts]
    )
    return delivery


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


# --- Who gets in ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [ORDERS, EXPORT, WEBHOOKS, SETTINGS])
@pytest.mark.parametrize("who", ["client2", "outsider", "broker1", "backoffice", "partner"])
def test_only_merchant_people_get_in(shops, cast, login_as, url, who):
    assert login_as(getattr(cast, who)).get(url).status_code == 403


def test_anonymous_goes_to_login_and_a_merchant_without_bnpl_gets_404(shops, client, login_as):
    assert client.get(ORDERS).status_code == 302
    shop = OrganisationFactory(name="Zeta Shop", kind=Organisation.Kind.MERCHANT)
    person = UserFactory(email="zeta@example.com", organisation=shop, roles=[Role.MERCHANT])
    assert login_as(person).get(ORDERS).status_code == 404


def test_each_shop_sees_only_its_orders(shops, cast, login_as):
    page = login_as(cast.merchant).get(ORDERS)
    assert page.status_code == 200
    assert {o.reference for o in page.context["page"]} == {"D-2", "D-3"}
    assert b"E-3" not in page.content
    page = login_as(shops.merchant2).get(ORDERS)
    assert {o.reference for o in page.context["page"]} == {"E-3"}
    assert b"D-2" not in page.content


def test_filters_and_bad_range(shops, cast, login_as):
    Order.objects.filter(pk=shops.delta_order3.pk).update(state=Order.State.CAPTURED)
    client = login_as(cast.merchant)
    page = client.get(ORDERS, {"state": "captured"})
    assert [o.reference for o in page.context["page"]] == ["D-3"]
    assert [o.reference for o in client.get(ORDERS, {"reference": "D-2"}).context["page"]] == ["D-2"]
    today = timezone.localdate()
    future = {"created_after": (today + timedelta(days=1)).isoformat()}
    assert list(client.get(ORDERS, future).context["page"]) == []
    bad = client.get(
        ORDERS, {"created_after": today.isoformat(), "created_before": (today - timedelta(days=3)).isoformat()}
    )
    assert bad.status_code == 400
    assert "The end of the range lies before its start." in bad.content.decode()
    assert client.get(EXPORT, {"created_after": "not a date"}).status_code == 400


def test_csv_export_is_the_filtered_list_of_the_shop(shops, cast, login_as):
    rows = csv_rows(login_as(cast.merchant).get(EXPORT))
    assert rows[0][:3] == ["Order reference", "Created", "State"]
    assert sorted(row[0] for row in rows[1:]) == ["D-2", "D-3"]
    [d2] = [row for row in rows if row[0] == "D-2"]
    assert d2[3:6] == ["100", "0", "EUR"] and d2[7] == "client2@example.com"
    rows = csv_rows(login_as(cast.merchant).get(EXPORT, {"reference": "D-3"}))
    assert [row[0] for row in rows[1:]] == ["D-3"]
    assert [row[0] for row in csv_rows(login_as(shops.merchant2).get(EXPORT))[1:]] == ["E-3"]


# --- Settlement totals --------------------------------------------------------------------------------


def test_settlement_totals_to_the_cent(shops, cast, login_as):
    old = timezone.now() - timedelta(days=40)
    captured = [
        ("19.99", "0.00", Order.State.CAPTURED, "EUR"),
        ("0.01", "0.00", Order.State.SHIPPED, "EUR"),
        ("250.10", "55.55", Order.State.PARTLY_REFUNDED, "EUR"),
        ("33.33", "33.33", Order.State.REFUNDED, "EUR"),
        ("10.05", "0.00", Order.State.SHIPPED, "USD"),
    ]
    for amount, refunded, state, currency in captured:
        OrderFactory(
            merchant=shops.delta,
            shopper=shops.client2,
            amount=Decimal(amount),
            refunded_amount=Decimal(refunded),
            state=state,
            currency=currency,
            shipped_at=timezone.now(),
        )
    # Not counted: not captured, another shop's, or outside the period.
    OrderFactory(merchant=shops.delta, shopper=shops.client2, amount=Decimal("999.99"), state=Order.State.APPROVED)
    OrderFactory(merchant=shops.epsilon, shopper=shops.client3, amount=Decimal("777.77"), state=Order.State.CAPTURED)
    OrderFactory(
        merchant=shops.delta, shopper=shops.client2, amount=Decimal("5.00"), state=Order.State.CAPTURED, created_at=old
    )
    period = {"created_after": (timezone.localdate() - timedelta(days=7)).isoformat()}
    page = login_as(cast.merchant).get(ORDERS, period)
    totals = {total.currency: total for total in page.context["totals"]}
    assert set(totals) == {"EUR", "USD"}
    eur = totals["EUR"]
    assert (eur.orders, eur.captured, eur.refunded, eur.net) == (
        4,
        Decimal("303.43"),
        Decimal("88.88"),
        Decimal("214.55"),
    )
    assert totals["USD"].net == Decimal("10.05")
    assert 'data-testid="settlement-net-EUR"' in page.content.decode()
    # Without a period the old order counts too.
    totals = {t.currency: t for t in login_as(cast.merchant).get(ORDERS).context["totals"]}
    assert totals["EUR"].net == Decimal("219.55")
    epsilon = {t.currency: t for t in login_as(shops.merchant2).get(ORDERS).context["totals"]}
    assert epsilon["EUR"].net == Decimal("777.77")


# --- Webhooks -----------------------------------------------------------------------------------------


def test_each_shop_sees_only_its_webhooks(shops, cast, login_as):
    mine = delivery_for(shops.delta, state=State.GIVEN_UP, attempts=(500, 500), order=shops.delta_order2)
    theirs = delivery_for(shops.epsilon, order=shops.epsilon_order3)
    page = login_as(cast.merchant).get(WEBHOOKS)
    assert [d.pk for d in page.context["page"]] == [mine.pk]
    content = page.content.decode()
    assert f'data-testid="attempts-{mine.pk}"' in content and "500" in content
    assert f"delivery-{theirs.pk}" not in content
    assert [d.pk for d in login_as(shops.merchant2).get(WEBHOOKS).context["page"]] == [theirs.pk]
    assert [d.pk for d in login_as(cast.merchant).get(WEBHOOKS, {"state": "delivered"}).context["page"]] == []


def test_send_again_requeues_audited_and_foreign_is_404(
    shops, cast, login_as, webhook_receiver, django_capture_on_commit_callbacks
):
    shops.delta.webhook_url = webhook_receiver.url
    shops.delta.save(update_fields=["webhook_url"])
    mine = delivery_for(shops.delta, state=State.GIVEN_UP, attempts=(500,), order=shops.delta_order2)
    theirs = delivery_for(shops.epsilon, state=State.GIVEN_UP, attempts=(500,))
    client = login_as(cast.merchant)
    assert client.get(reverse("bnpl:merchant-webhook-resend", args=[mine.pk])).status_code == 405
    assert client.post(reverse("bnpl:merchant-webhook-resend", args=[theirs.pk])).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("bnpl:merchant-webhook-resend", args=[mine.pk]))
    assert response.status_code == 302 and response["Location"] == WEBHOOKS
    mine.refresh_from_db()
    theirs.refresh_from_db()
    # Eager Celery in tests: the re-queued delivery went out at once after the commit.
    assert mine.state == State.DELIVERED and mine.attempts == 2
    assert theirs.state == State.GIVEN_UP
    assert len(webhook_receiver.requests) == 1
    assert AuditEvent.objects.filter(action="bnpl.webhook_resent").count() == 1


def test_send_again_without_url_is_refused_and_changes_nothing(shops, cast, login_as):
    delivery = delivery_for(shops.delta, state=State.GIVEN_UP, attempts=(500,))
    client = login_as(cast.merchant)
    response = client.post(reverse("bnpl:merchant-webhook-resend", args=[delivery.pk]), follow=True)
    assert "Set a webhook URL first." in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.state == State.GIVEN_UP
    assert not AuditEvent.objects.filter(action="bnpl.webhook_resent").exists()


# --- URL and secret -----------------------------------------------------------------------------------


def test_webhook_url_form(shops, cast, login_as, settings):
    settings.BNPL_WEBHOOK_ALLOW_PRIVATE = False
    client = login_as(cast.merchant)
    response = client.post(SETTINGS, {"webhook_url": "http://127.0.0.1:9000/hooks"})
    assert response.status_code == 400
    assert "not a public internet address" in response.content.decode()
    response = client.post(SETTINGS, {"webhook_url": "ftp://shop.example/x"})
    assert response.status_code == 400 and "Only http:// and https://" in response.content.decode()
    shops.delta.refresh_from_db()
    assert shops.delta.webhook_url == ""
    settings.BNPL_WEBHOOK_ALLOW_PRIVATE = True
    assert client.post(SETTINGS, {"webhook_url": "http://127.0.0.1:9000/hooks"}).status_code == 302
    shops.delta.refresh_from_db()
    assert shops.delta.webhook_url == "http://127.0.0.1:9000/hooks"
    assert client.post(SETTINGS, {"webhook_url": ""}).status_code == 302
    shops.delta.refresh_from_db()
    assert shops.delta.webhook_url == ""


def test_replace_secret_needs_the_second_factor_and_shows_it_once(shops, cast, login_as):
    before = shops.delta.webhook_secret()
    response = login_as(cast.merchant, verified=False).post(ROTATE)
    assert response.status_code == 302 and "2fa" in response["Location"]
    shops.delta.refresh_from_db()
    assert shops.delta.webhook_secret() == before
    assert login_as(cast.merchant).get(ROTATE).status_code == 405
    response = login_as(cast.merchant).post(ROTATE)
    assert response.status_code == 200
    secret = response.context["secret"]
    shops.delta.refresh_from_db()
    assert secret.startswith("whsec_") and shops.delta.webhook_secret() == secret != before
    assert secret in response.content.decode()
    assert secret not in login_as(cast.merchant).get(SETTINGS).content.decode()
    assert AuditEvent.objects.filter(action="bnpl.webhook_secret_rotated").exists()
    assert login_as(cast.client2).post(ROTATE).status_code == 403


# --- Query budgets (P1) -------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [3, 30])
def test_pages_query_count_is_bounded(shops, cast, login_as, django_assert_max_num_queries, size):
    for n in range(size):
        order = order_with_plan(merchant=shops.delta, shopper=shops.client2, reference=f"Q-{n}")
        delivery_for(shops.delta, state=State.FAILED, attempts=(500, 502), order=order)
    client = login_as(cast.merchant)
    # Measured: 9, 8 and 6 queries at both sizes (session, user, merchant, list, count, totals/prefetch …).
    with django_assert_max_num_queries(10):
        assert client.get(ORDERS).status_code == 200
    with django_assert_max_num_queries(9):
        assert client.get(WEBHOOKS).status_code == 200
    with django_assert_max_num_queries(7):
        assert len(csv_rows(client.get(EXPORT))) == size + 3  # header, D-2, D-3 and the new ones


def test_merchant_people_have_the_nav_entry(shops, cast, login_as):
    assert f'href="{ORDERS}"' in login_as(cast.merchant).get(WEBHOOKS).content.decode()
    assert f'href="{ORDERS}"' not in login_as(cast.client2).get(reverse("clients:home")).content.decode()
