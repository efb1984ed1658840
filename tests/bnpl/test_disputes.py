"""Deciding a dispute: resume (collections and dunning continue) or cancel with a refund."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from bnpl.collection_runs import collection_run_prepare
from bnpl.dispute_state import DISPUTE_KIND, order_disputed
from bnpl.disputes import dispute_cancel_refund, dispute_resume
from bnpl.models import Instalment, Order, Plan, TrackingState, WebhookDelivery
from bnpl.order_tracking import order_tracking_status_set
from portal.audit.models import AuditEvent
from portal.inbox.models import WorkItem
from portal.notifications.models import Notification

from .collection_helpers import IBANS, mandate_for, plan_due

DAY = date(2026, 6, 15)


@pytest.fixture
def disputed(cast, shops):
    shops.delta.webhook_url = "https://shop.example.com/hooks"
    shops.delta.save(update_fields=["webhook_url"])
    mandate_for(shops.client2, IBANS["client2"])
    plan = plan_due(merchant=shops.delta, shopper=shops.client2, first_due=DAY)
    order = Order.objects.select_related("shopper__user", "merchant").get(pk=plan.order_id)
    order_tracking_status_set(order=order, status=TrackingState.RETURNED, status_date=timezone.now())
    assert order_disputed(order.pk)
    return order


def test_the_dispute_item_links_to_the_decision_page(disputed):
    item = WorkItem.objects.get(kind=DISPUTE_KIND, object_id=disputed.pk)
    assert item.url == f"/bnpl/disputes/{disputed.pk}/"


def test_resuming_closes_the_dispute_and_collections_continue(cast, disputed):
    assert collection_run_prepare(actor=cast.backoffice, collection_date=DAY).item_count == 0
    dispute_resume(actor=cast.backoffice, order_id=disputed.pk, note="The parcel was delivered after all.")
    assert not order_disputed(disputed.pk)
    assert WorkItem.objects.get(kind=DISPUTE_KIND, object_id=disputed.pk).state == "Resumed"
    assert AuditEvent.objects.filter(action="bnpl.dispute_resumed", object_id=str(disputed.pk)).exists()
    told = Notification.objects.get(user=cast.client2, event="bnpl.dispute_decided")
    assert "continues" in told.title
    hook = WebhookDelivery.objects.get(order=disputed, event="order.dispute_decided")
    assert hook.payload["decision"] == "resume"
    second = Instalment.objects.get(plan__order=disputed, number=2).due_date
    assert collection_run_prepare(actor=cast.backoffice, collection_date=second).item_count == 1
    with pytest.raises(ValidationError) as error:
        dispute_resume(actor=cast.backoffice, order_id=disputed.pk, note="again")
    assert error.value.code == "not_disputed"


def test_cancelling_with_a_refund_ends_the_plan(cast, disputed):
    dispute_cancel_refund(actor=cast.backoffice, order_id=disputed.pk, note="Returned unopened.")
    disputed.refresh_from_db()
    assert disputed.state == Order.State.REFUNDED and disputed.refunded_amount == disputed.amount
    plan = Plan.objects.get(order=disputed)
    assert plan.state == Plan.State.CANCELLED
    assert set(Instalment.objects.filter(plan=plan).values_list("state", flat=True)) == {"cancelled"}
    assert not order_disputed(disputed.pk)
    events = set(WebhookDelivery.objects.filter(order=disputed).values_list("event", flat=True))
    assert {"order.refunded", "order.dispute_decided"} <= events
    assert Notification.objects.filter(user=cast.client2, event="bnpl.refund_issued").exists()
    assert "cancelled and refunded" in Notification.objects.get(user=cast.client2, event="bnpl.dispute_decided").title
    assert AuditEvent.objects.filter(action="bnpl.dispute_cancelled").count() == 1


def test_only_back_office_decides_and_a_reason_is_needed(cast, disputed):
    for user in (cast.merchant, cast.client2, cast.outsider):
        with pytest.raises(PermissionDenied):
            dispute_cancel_refund(actor=user, order_id=disputed.pk, note="x")
    with pytest.raises(ValidationError) as error:
        dispute_resume(actor=cast.backoffice, order_id=disputed.pk, note="   ")
    assert "Say what was decided" in str(error.value)
    disputed.refresh_from_db()
    assert disputed.refunded_amount == Decimal("0") and order_disputed(disputed.pk)
