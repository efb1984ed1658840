"""The order lifecycle's services: capture, ship, cancel, refund; the carrier's statuses on the order."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from bnpl import order_tracking, orders
from bnpl.events import shipment_status_changed
from bnpl.models import Instalment, Order, Plan, ShipmentEvent, TrackedShipment
from portal.audit.models import AuditEvent
from portal.inbox.models import WorkItem
from portal.notifications.models import Notification, OutboxMessage

from .factories import OrderFactory, order_with_plan

pytestmark = pytest.mark.django_db

State = Order.State
SHIPPED_AT = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)


def snapshot(order: Order):
    """Everything a refused call must leave as it was."""
    order = Order.objects.get(pk=order.pk)
    plan = Plan.objects.filter(order=order).first()
    rows = list(Instalment.objects.filter(plan=plan).values_list("number", "due_date", "amount", "state"))
    return (
        order.state,
        order.refunded_amount,
        order.shipped_at,
        order.carrier,
        order.tracking_number,
        plan and (plan.state, plan.start_date, plan.total_payable),
        rows,
        AuditEvent.objects.filter(action__startswith="bnpl.order_").count(),
        OutboxMessage.objects.count(),
    )


def refused(call, code: str, field: str = "state"):
    with pytest.raises(ValidationError) as info:
        call()
    assert info.value.error_dict[field][0].code == code


@pytest.fixture
def approved(shops):
    return shops.delta_order2  # 100.00 EUR, pay in 4, plan waiting for shipment, client2's


@pytest.fixture
def captured(approved, cast):
    return orders.order_capture(actor=cast.merchant, order_id=approved.pk)


@pytest.fixture
def shipped(captured, cast, django_capture_on_commit_callbacks, settings):
    settings.SHIPPO_API_KEY = ""  # the carrier simulator
    with django_capture_on_commit_callbacks(execute=True):
        return orders.order_ship(
            actor=cast.merchant,
            order_id=captured.pk,
            carrier="dhl_germany",
            tracking_number="00340434161094015902",
            shipped_at=SHIPPED_AT,
        )


# --- capture -----------------------------------------------------------------------------------


def test_capture_moves_an_approved_order_on_and_is_audited(approved, cast):
    order = orders.order_capture(actor=cast.merchant, order_id=approved.pk, amount=Decimal("100.00"))

    assert order.state == State.CAPTURED
    assert Order.objects.get(pk=approved.pk).state == State.CAPTURED
    event = AuditEvent.objects.get(action="bnpl.order_captured")
    assert event.changes["state"] == ["approved", "captured"]


@pytest.mark.parametrize(
    ("state", "code"),
    [
        (State.PENDING_DECISION, "not_approved"),
        (State.IN_REVIEW, "not_approved"),
        (State.DECLINED, "not_approved"),
        (State.CAPTURED, "already_captured"),
        (State.CANCELLED, "cancelled"),
    ],
)
def test_capture_refuses_other_states_and_changes_nothing(shops, cast, state, code):
    order = order_with_plan(merchant=shops.delta, shopper=shops.client2, reference="C-1", state=state)
    before = snapshot(order)

    refused(lambda: orders.order_capture(actor=cast.merchant, order_id=order.pk), code)
    assert snapshot(order) == before


def test_a_partial_capture_is_refused(approved, cast):
    before = snapshot(approved)

    refused(
        lambda: orders.order_capture(actor=cast.merchant, order_id=approved.pk, amount=Decimal("60.00")),
        "capture_amount",
        "amount",
    )
    assert snapshot(approved) == before


def test_another_merchant_gets_404_and_readers_403(approved, shops, cast):
    before = snapshot(approved)

    with pytest.raises(Http404):
        orders.order_capture(actor=shops.merchant2, order_id=approved.pk)
    with pytest.raises(PermissionDenied):
        orders.order_capture(actor=cast.backoffice, order_id=approved.pk)
    with pytest.raises(PermissionDenied):
        orders.order_capture(actor=cast.client2, order_id=approved.pk)  # the shopper reads it, operates nothing
    with pytest.raises(Http404):
        orders.order_capture(actor=cast.client3, order_id=approved.pk)
    assert snapshot(approved) == before


# --- ship --------------------------------------------------------------------------------------


def test_ship_starts_the_plan_with_due_dates_from_the_shipment_date(shipped):
    order = Order.objects.get(pk=shipped.pk)
    plan = Plan.objects.get(order=order)

    assert order.state == State.SHIPPED and order.shipped_at == SHIPPED_AT
    assert (order.carrier, order.tracking_number) == ("dhl_germany", "00340434161094015902")
    assert plan.state == Plan.State.ACTIVE and plan.start_date == date(2026, 3, 10)
    # Pay in 4: the first share on the shipment day, then every two weeks.
    assert list(plan.instalments.values_list("number", "due_date", "amount")) == [
        (1, date(2026, 3, 10), Decimal("25.00")),
        (2, date(2026, 3, 24), Decimal("25.00")),
        (3, date(2026, 4, 7), Decimal("25.00")),
        (4, date(2026, 4, 21), Decimal("25.00")),
    ]
    assert AuditEvent.objects.get(action="bnpl.order_shipped").changes["start_date"] == "2026-03-10"


def test_ship_creates_a_missing_plan_priced_monthly_from_the_shipment_date(shops, cast):
    order = OrderFactory(
        merchant=shops.delta, shopper=shops.client2, amount=Decimal("600.00"), option_key="monthly_6", state="captured"
    )

    orders.order_ship(
        actor=cast.merchant,
        order_id=order.pk,
        carrier="ups",
        tracking_number="1Z999AA10123456784",
        shipped_at=SHIPPED_AT,
    )

    plan = Plan.objects.get(order=order)
    rows = list(plan.instalments.all())
    assert [row.due_date for row in rows] == [
        date(2026, 4, 10),
        date(2026, 5, 10),
        date(2026, 6, 10),
        date(2026, 7, 10),
        date(2026, 8, 10),
        date(2026, 9, 10),
    ]
    assert sum(row.principal for row in rows) == Decimal("600.00")
    assert all(row.amount == row.principal + row.interest for row in rows)
    assert sum(row.amount for row in rows) == plan.total_payable > Decimal("600.00")
    assert plan.nominal_rate == Decimal("5.90")


def test_ship_emails_the_schedule_to_the_shopper_with_a_link_to_its_pdf(shipped, cast):
    mail = OutboxMessage.objects.get(channel=OutboxMessage.Channel.EMAIL, recipient=cast.client2.email)
    plan = Plan.objects.get(order=shipped)

    assert "D-2" in mail.subject
    assert "25.00" in mail.body and "100.00" in mail.body
    notification = Notification.objects.get(user=cast.client2, event="bnpl.schedule_ready")
    assert notification.link_url == f"/bnpl/plans/{plan.pk}/schedule.pdf"


def test_ship_registers_the_parcel_for_tracking_after_the_commit(shipped):
    assert TrackedShipment.objects.filter(carrier="dhl_germany", tracking_number="00340434161094015902").exists()
    assert orders.orders_tracking_unregistered() == []


def test_a_carrier_that_is_away_does_not_undo_the_shipment_and_the_sweep_finds_it(
    captured, cast, monkeypatch, django_capture_on_commit_callbacks
):
    def away(**kwargs):
        raise ConnectionError("carrier away")

    monkeypatch.setattr("bnpl.tracking.tracking_register", away)
    with django_capture_on_commit_callbacks(execute=True):
        orders.order_ship(actor=cast.merchant, order_id=captured.pk, carrier="ups", tracking_number="1Z9")

    assert Order.objects.get(pk=captured.pk).state == State.SHIPPED
    assert orders.orders_tracking_unregistered() == [captured.pk]


def test_the_schedule_pdf_opens_for_the_shopper_and_the_shop_only(shipped, cast, shops, login_as):
    url = f"/bnpl/plans/{Plan.objects.get(order=shipped).pk}/schedule.pdf"

    response = login_as(cast.client2).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert login_as(cast.merchant).get(url).status_code == 200
    assert login_as(cast.client3).get(url).status_code == 404
    assert login_as(shops.merchant2).get(url).status_code == 404


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"carrier": "pigeon_post"}, "carrier", "unknown_carrier"),
        ({"tracking_number": ""}, "tracking_number", "required"),
        ({"tracking_number": "12 34/56"}, "tracking_number", "invalid"),
        ({"shipped_at": "in two days"}, "shipped_at", "future"),
    ],
)
def test_ship_refuses_bad_input_and_changes_nothing(captured, cast, changes, field, code):
    before = snapshot(captured)
    values = {"carrier": "ups", "tracking_number": "1Z999AA10123456784", **changes}
    if values.get("shipped_at") == "in two days":
        values["shipped_at"] = timezone.now() + timedelta(days=2)

    refused(lambda: orders.order_ship(actor=cast.merchant, order_id=captured.pk, **values), code, field)
    assert snapshot(captured) == before


def test_ship_twice_or_before_capture_is_refused(shipped, approved, shops, cast):
    before = snapshot(shipped)
    refused(
        lambda: orders.order_ship(actor=cast.merchant, order_id=shipped.pk, carrier="ups", tracking_number="X1"),
        "already_shipped",
    )
    assert snapshot(shipped) == before

    other = order_with_plan(merchant=shops.delta, shopper=shops.client2, reference="S-2")
    refused(
        lambda: orders.order_ship(actor=cast.merchant, order_id=other.pk, carrier="ups", tracking_number="X1"),
        "not_captured",
    )


# --- cancel ------------------------------------------------------------------------------------


@pytest.mark.parametrize("state", [State.PENDING_DECISION, State.IN_REVIEW, State.APPROVED, State.CAPTURED])
def test_cancel_before_shipment_cancels_the_plan(shops, cast, state):
    order = order_with_plan(merchant=shops.delta, shopper=shops.client2, reference="X-1", state=state)

    orders.order_cancel(actor=cast.merchant, order_id=order.pk, reason="Out of stock")

    assert Order.objects.get(pk=order.pk).state == State.CANCELLED
    plan = Plan.objects.get(order=order)
    assert plan.state == Plan.State.CANCELLED
    assert set(plan.instalments.values_list("state", flat=True)) == {Instalment.State.CANCELLED}
    assert AuditEvent.objects.get(action="bnpl.order_cancelled").changes["reason"] == "Out of stock"


def test_cancel_after_shipment_or_twice_is_refused(shipped, shops, cast):
    before = snapshot(shipped)
    refused(lambda: orders.order_cancel(actor=cast.merchant, order_id=shipped.pk), "already_shipped")
    assert snapshot(shipped) == before

    gone = order_with_plan(merchant=shops.delta, shopper=shops.client2, reference="X-2", state=State.CANCELLED)
    refused(lambda: orders.order_cancel(actor=cast.merchant, order_id=gone.pk), "not_cancellable")


# --- refund ------------------------------------------------------------------------------------


def test_a_partial_refund_cuts_the_schedule_from_the_last_instalment_and_tells_the_shopper(shipped, cast):
    Instalment.objects.filter(plan__order=shipped, number=1).update(paid_amount=Decimal("25.00"), state="paid")

    orders.order_refund(actor=cast.merchant, order_id=shipped.pk, amount=Decimal("30.00"), reason="One item back")

    order = Order.objects.get(pk=shipped.pk)
    assert order.state == State.PARTLY_REFUNDED and order.refunded_amount == Decimal("30.00")
    plan = Plan.objects.get(order=order)
    assert list(plan.instalments.values_list("number", "amount", "state")) == [
        (1, Decimal("25.00"), "paid"),
        (2, Decimal("25.00"), "due"),
        (3, Decimal("20.00"), "due"),
        (4, Decimal("0.00"), "cancelled"),
    ]
    assert plan.total_payable == Decimal("70.00") and plan.state == Plan.State.ACTIVE
    mail = OutboxMessage.objects.filter(recipient=cast.client2.email, subject__contains="refunded").get()
    assert "30.00" in mail.body and "70.00" in mail.body


def test_refunds_up_to_the_whole_amount_end_the_plan(shipped, cast):
    orders.order_refund(actor=cast.merchant, order_id=shipped.pk, amount=Decimal("40.00"))
    orders.order_refund(actor=cast.merchant, order_id=shipped.pk, amount=Decimal("60.00"))

    order = Order.objects.get(pk=shipped.pk)
    assert order.state == State.REFUNDED and order.refunded_amount == Decimal("100.00")
    plan = Plan.objects.get(order=order)
    assert plan.state == Plan.State.CANCELLED and plan.total_payable == Decimal("0.00")
    assert set(plan.instalments.values_list("state", flat=True)) == {"cancelled"}


def test_a_full_refund_of_an_interest_bearing_plan_leaves_nothing_to_pay(shops, cast):
    order = OrderFactory(
        merchant=shops.delta, shopper=shops.client2, amount=Decimal("600.00"), option_key="monthly_6", state="captured"
    )
    orders.order_ship(actor=cast.merchant, order_id=order.pk, carrier="ups", tracking_number="1Z1")
    Instalment.objects.filter(plan__order=order, number=1).update(paid_amount=instalment_amount(order, 1), state="paid")

    orders.order_refund(actor=cast.merchant, order_id=order.pk, amount=Decimal("600.00"))

    plan = Plan.objects.get(order=order)
    assert plan.state == Plan.State.COMPLETED
    assert not plan.instalments.filter(state__in=["due", "overdue", "partly_paid"]).exists()
    assert plan.total_payable == instalment_amount(order, 1)


def instalment_amount(order, number):
    return Instalment.objects.get(plan__order=order, number=number).amount


@pytest.mark.parametrize(
    ("amount", "field", "code"),
    [
        (Decimal("-5.00"), "amount", "not_positive"),
        (Decimal("0.00"), "amount", "not_positive"),
        (Decimal("1.005"), "amount", "precision"),
        (Decimal("100.01"), "amount", "over_refundable"),
    ],
)
def test_refund_refuses_bad_amounts_and_changes_nothing(shipped, cast, amount, field, code):
    before = snapshot(shipped)

    refused(lambda: orders.order_refund(actor=cast.merchant, order_id=shipped.pk, amount=amount), code, field)
    assert snapshot(shipped) == before


def test_refund_over_what_is_left_or_before_shipment_is_refused(shipped, captured, shops, cast):
    orders.order_refund(actor=cast.merchant, order_id=shipped.pk, amount=Decimal("80.00"))
    before = snapshot(shipped)
    refused(
        lambda: orders.order_refund(actor=cast.merchant, order_id=shipped.pk, amount=Decimal("20.01")),
        "over_refundable",
        "amount",
    )
    assert snapshot(shipped) == before

    other = order_with_plan(merchant=shops.delta, shopper=shops.client2, reference="R-2", state=State.CAPTURED)
    refused(lambda: orders.order_refund(actor=cast.merchant, order_id=other.pk, amount=Decimal("1.00")), "not_shipped")


# --- the carrier's statuses --------------------------------------------------------------------


def carrier_reports(order, status: str, when=None):
    when = when or timezone.now()
    event = ShipmentEvent.objects.create(
        carrier=order.carrier,
        tracking_number=order.tracking_number,
        status=status,
        status_date=when,
        source=ShipmentEvent.Source.choices[0][0],
        event_key=f"{order.pk}-{status}-{when.timestamp()}",
    )
    shipment_status_changed.send(
        sender=ShipmentEvent,
        carrier=order.carrier,
        tracking_number=order.tracking_number,
        status=status,
        status_date=when,
        event=event,
    )


def test_in_transit_and_delivered_reach_the_order_and_the_shopper(shipped, cast):
    carrier_reports(shipped, "in_transit")
    assert Order.objects.get(pk=shipped.pk).tracking_status == "in_transit"
    carrier_reports(shipped, "delivered")
    carrier_reports(shipped, "in_transit")  # a late scan does not undo the delivery

    assert Order.objects.get(pk=shipped.pk).tracking_status == "delivered"
    titles = list(
        Notification.objects.filter(user=cast.client2, event="bnpl.shipment_status")
        .order_by("pk")
        .values_list("title", flat=True)
    )
    assert titles == ["Order D-2 is on its way", "Order D-2 was delivered"]
    assert not WorkItem.objects.filter(kind=order_tracking.DISPUTE_KIND).exists()


@pytest.mark.parametrize(("status", "told"), [("returned", True), ("failure", False)])
def test_a_return_or_failed_delivery_opens_a_dispute_for_back_office(shipped, cast, status, told):
    carrier_reports(shipped, status)

    order = Order.objects.get(pk=shipped.pk)
    assert order.tracking_status == status
    item = WorkItem.objects.get(kind="bnpl.dispute", object_id=order.pk)
    assert item.closed_at is None and "D-2" in item.subject
    assert Notification.objects.filter(user=cast.client2, event="bnpl.shipment_status").exists() is told
    assert AuditEvent.objects.filter(action="bnpl.order_tracking_updated").count() == 1


def test_a_status_for_a_number_no_order_carries_changes_no_order(shipped):
    shipment_status_changed.send(
        sender=ShipmentEvent,
        carrier="ups",
        tracking_number="UNKNOWN123",
        status="returned",
        status_date=timezone.now(),
        event=None,
    )

    assert Order.objects.get(pk=shipped.pk).tracking_status == ""
    assert not WorkItem.objects.exists()
