"""Collection runs: which instalments go into the day's pain.008, FRST/RCUR, idempotency, cancelling."""

import xml.etree.ElementTree as ET
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from bnpl import collection_tasks
from bnpl.collection_runs import collection_run_cancel, collection_run_prepare
from bnpl.models import CollectionItem, CollectionRun, Instalment, Order, TrackingState
from bnpl.order_tracking import order_tracking_status_set
from portal.audit.models import AuditEvent

from .collection_helpers import IBANS, mandate_for, plan_due

DAY = date(2026, 6, 15)
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"}


@pytest.fixture
def setup(shops):
    m2 = mandate_for(shops.client2, IBANS["client2"])
    m3 = mandate_for(shops.client3, IBANS["client3"])
    paying = plan_due(merchant=shops.delta, shopper=shops.client2, first_due=DAY)
    other = plan_due(merchant=shops.delta, shopper=shops.client3, first_due=DAY, amount=Decimal("150.00"))
    later = plan_due(merchant=shops.delta, shopper=shops.client2, first_due=DAY + timedelta(days=1))
    return shops, m2, m3, paying, other, later


def test_it_collects_the_instalments_due_that_day_under_their_mandates(cast, setup):
    _shops, m2, m3, paying, other, _later = setup
    run = collection_run_prepare(actor=cast.backoffice, collection_date=DAY)
    items = list(run.items.order_by("pk"))
    assert [item.instalment for item in items] == [paying.instalments.get(number=1), other.instalments.get(number=1)]
    assert [item.sequence for item in items] == ["FRST", "FRST"]
    assert run.item_count == 2 and run.total_amount == Decimal("150.00")
    assert run.state == CollectionRun.State.PREPARED
    root = ET.fromstring(bytes(run.pain008))  # noqa: S314 - our own file, just built
    assert root.find("p:CstmrDrctDbtInitn/p:GrpHdr/p:MsgId", NS).text == run.message_id
    assert root.find("p:CstmrDrctDbtInitn/p:GrpHdr/p:CtrlSum", NS).text == "150.00"
    ids = [e.text for e in root.iterfind(".//p:EndToEndId", NS)]
    assert sorted(ids) == sorted(item.end_to_end_id for item in items)
    m2.refresh_from_db()
    m3.refresh_from_db()
    assert m2.first_collected_at is not None and m2.sequence == "RCUR"
    assert AuditEvent.objects.filter(action="bnpl.collection_run_prepared").count() == 1


def test_the_next_debit_under_a_mandate_is_recurring(cast, setup):
    collection_run_prepare(actor=cast.backoffice, collection_date=DAY)
    run = collection_run_prepare(actor=cast.backoffice, collection_date=DAY + timedelta(days=1))
    assert [item.sequence for item in run.items.all()] == ["RCUR"]


def test_a_second_run_for_the_day_returns_the_first(cast, setup):
    first = collection_run_prepare(actor=cast.backoffice, collection_date=DAY)
    again = collection_run_prepare(actor=None, collection_date=DAY)
    assert again.pk == first.pk
    assert CollectionRun.objects.count() == 1 and CollectionItem.objects.count() == 2


def test_instalments_without_a_mandate_or_with_a_dispute_are_skipped_with_the_reason(cast, setup):
    shops, _m2, m3, paying, other, _later = setup
    from bnpl.mandates import mandate_revoke

    mandate_revoke(actor=shops.client3.user, mandate_id=m3.pk)
    order = Order.objects.select_related("shopper__user", "merchant").get(pk=paying.order_id)
    order_tracking_status_set(order=order, status=TrackingState.RETURNED, status_date=timezone.now())
    run = collection_run_prepare(actor=cast.backoffice, collection_date=DAY)
    assert run.state == CollectionRun.State.EMPTY and run.item_count == 0 and not run.pain008
    reasons = {row["order"]: row["reason"] for row in run.skipped}
    assert reasons == {
        paying.order.reference: "Paused: the order has an open dispute",
        other.order.reference: "No active SEPA mandate",
    }


def test_a_cancelled_run_lets_the_day_be_prepared_again_with_first_debits(cast, setup):
    _shops, m2, *_ = setup
    first = collection_run_prepare(actor=cast.backoffice, collection_date=DAY)
    collection_run_cancel(actor=cast.backoffice, run_id=first.pk)
    m2.refresh_from_db()
    assert m2.first_collected_at is None
    second = collection_run_prepare(actor=cast.backoffice, collection_date=DAY)
    assert second.pk != first.pk and [i.sequence for i in second.items.all()] == ["FRST", "FRST"]
    assert set(first.items.values_list("state", flat=True)) == {"cancelled"}
    with pytest.raises(ValidationError):
        collection_run_cancel(actor=cast.backoffice, run_id=first.pk)


def test_only_back_office_prepares_or_cancels(cast, setup):
    for user in (cast.merchant, cast.client2, cast.outsider):
        with pytest.raises(PermissionDenied):
            collection_run_prepare(actor=user, collection_date=DAY)
    assert not CollectionRun.objects.exists()


def test_wrong_creditor_settings_store_nothing(cast, setup, settings):
    settings.BNPL_CREDITOR_ID = "DE99ZZZ09999999999"
    with pytest.raises(ValidationError) as error:
        collection_run_prepare(actor=cast.backoffice, collection_date=DAY)
    assert "creditor identifier" in " ".join(error.value.messages)
    assert not CollectionRun.objects.exists() and not CollectionItem.objects.exists()
    assert not Instalment.objects.filter(collection_items__isnull=False).exists()


def test_the_daily_task_prepares_tomorrow_once(cast, setup, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a: DAY - timedelta(days=1))
    first = collection_tasks.collection_run_tomorrow.apply().result
    again = collection_tasks.collection_run_tomorrow.apply().result
    assert first == again == CollectionRun.objects.get(collection_date=DAY).pk
