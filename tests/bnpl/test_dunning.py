"""Overdue marking and dunning, and the issue's two promises: on time costs nothing, late costs exactly the cap."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bnpl.collection_runs import collection_run_prepare
from bnpl.dunning import dunning_run, level_reached
from bnpl.models import DunningNotice, FeeCharge, Instalment, Order, Plan, StatementLine, TrackingState
from bnpl.order_tracking import order_tracking_status_set
from bnpl.statement_files import Transfer, camt053_for
from bnpl.statements import bank_statement_import, statement_line_assign
from portal.notifications.models import Notification

from .collection_helpers import IBANS, mandate_for, plan_due, statement_paying
from .fee_helpers import days, schedule

FIRST_DUE = date(2026, 3, 16)


@pytest.fixture
def plan(cast, shops):
    mandate_for(shops.client2, IBANS["client2"])
    return plan_due(merchant=shops.delta, shopper=shops.client2, first_due=FIRST_DUE)


def test_levels_follow_the_days_after_the_due_date(settings):
    settings.BNPL_DUNNING_DAYS = [3, 14, 28]
    due = date(2026, 3, 1)
    assert [level_reached(due, due + timedelta(days=n)) for n in (0, 2, 3, 13, 14, 28, 90)] == [0, 0, 1, 1, 2, 3, 3]


def test_an_unpaid_instalment_becomes_overdue_and_is_dunned_once_per_level(cast, shops, plan):
    schedule()
    first = plan.instalments.get(number=1)
    assert dunning_run(today=FIRST_DUE)["overdue"] == 0
    counts = dunning_run(today=FIRST_DUE + timedelta(days=3))
    first.refresh_from_db()
    assert first.state == Instalment.State.OVERDUE and counts["overdue"] == 1 and counts["notices"] == 1
    assert dunning_run(today=FIRST_DUE + timedelta(days=3)) == {
        "overdue": 0,
        "late_fees": 0,
        "notices": 0,
        "dunning_fees": 0,
    }
    dunning_run(today=FIRST_DUE + timedelta(days=14))
    notices = list(DunningNotice.objects.filter(instalment=first).order_by("level"))
    assert [(n.level, n.fee_id is not None) for n in notices] == [(1, False), (2, True)]
    fees = dict(FeeCharge.objects.filter(instalment=first).values_list("kind", "amount"))
    assert fees == {"late": Decimal("5.00"), "dunning": Decimal("2.50")}
    told = Notification.objects.filter(user=cast.client2, event="bnpl.dunning_notice").order_by("pk")
    assert told.count() == 2 and "Dunning notice 2" in told.last().title and "2.50" in told.last().body
    before = FeeCharge.objects.count(), DunningNotice.objects.count(), Notification.objects.count()
    dunning_run(today=FIRST_DUE + timedelta(days=14))  # the same day again: nothing twice
    assert (FeeCharge.objects.count(), DunningNotice.objects.count(), Notification.objects.count()) == before


def test_an_order_with_an_open_dispute_is_not_dunned(cast, shops, plan):
    schedule()
    order = Order.objects.select_related("shopper__user", "merchant").get(pk=plan.order_id)
    order_tracking_status_set(order=order, status=TrackingState.FAILURE, status_date=timezone.now())
    counts = dunning_run(today=FIRST_DUE + timedelta(days=30))
    assert counts == {"overdue": 0, "late_fees": 0, "notices": 0, "dunning_fees": 0}
    assert plan.instalments.get(number=1).state == Instalment.State.DUE
    assert not FeeCharge.objects.exists() and not DunningNotice.objects.exists()


def _collect_day(cast, run_day, plan, *, statement_id, pay=True):
    run = collection_run_prepare(actor=cast.backoffice, collection_date=run_day)
    if pay:
        bank_statement_import(
            actor=cast.backoffice, data=statement_paying(run, statement_id=statement_id, booking_date=run_day)
        )
    return run


def test_a_whole_plan_paid_on_time_through_statements_costs_not_a_cent_of_fee(cast, shops, plan):
    schedule()
    due_dates = list(plan.instalments.order_by("number").values_list("due_date", flat=True))
    for day in days(FIRST_DUE - timedelta(days=1), due_dates[-1] + timedelta(days=40)):
        if day in due_dates:
            _collect_day(cast, day, plan, statement_id=f"ON-TIME-{day:%Y%m%d}")
        dunning_run(today=day)
    plan.refresh_from_db()
    assert plan.state == Plan.State.COMPLETED
    assert set(plan.instalments.values_list("state", flat=True)) == {"paid"}
    assert sum(plan.instalments.values_list("paid_amount", flat=True)) == plan.total_payable
    assert not FeeCharge.objects.exists()
    assert not DunningNotice.objects.exists()


def test_paying_late_costs_exactly_the_capped_fee(cast, shops, plan):
    # Late 5.00 after 5 grace days, dunning 2.50 from level 2; at most 6.00 per instalment and 5 % of
    # the 300.00 purchase (15.00) in all: 6.00 + 6.00 + 3.00.
    schedule(cap_per_instalment=Decimal("6.00"), cap_share_of_purchase=Decimal("5.00"))
    instalments = list(plan.instalments.order_by("number"))
    due_dates = [row.due_date for row in instalments]
    for day in days(FIRST_DUE, due_dates[-1] + timedelta(days=40)):
        if day in due_dates:
            run = _collect_day(cast, day, plan, statement_id="-", pay=False)
            item = run.items.get()
            data = statement_paying(
                run,
                statement_id=f"RET-{day:%Y%m%d}",
                booking_date=day,
                returns=[(item.end_to_end_id, item.amount, "AM04")],
            )
            bank_statement_import(actor=cast.backoffice, data=data)
        for number, due in enumerate(due_dates, start=1):
            if day == due + timedelta(days=20):  # the shopper transfers the instalment 20 days late
                row = plan.instalments.get(number=number)
                data = camt053_for(
                    statement_id=f"LATE-{day:%Y%m%d}",
                    booking_date=day,
                    transfers=[
                        Transfer(amount=row.amount, remittance=f"{plan.order.reference} {number}", debtor_name="Carl")
                    ],
                )
                bank_statement_import(actor=cast.backoffice, data=data)
                line = StatementLine.objects.get(outcome="unmatched")
                statement_line_assign(actor=cast.backoffice, line_id=line.pk, instalment_id=row.pk)
        dunning_run(today=day)
    plan.refresh_from_db()
    assert plan.state == Plan.State.COMPLETED
    per_instalment = [
        sum(FeeCharge.objects.filter(instalment=row).values_list("amount", flat=True)) for row in instalments
    ]
    assert per_instalment == [Decimal("6.00"), Decimal("6.00"), Decimal("3.00")]
    assert sum(per_instalment) == Decimal("15.00")
    assert sum(plan.instalments.values_list("paid_amount", flat=True)) == plan.total_payable


def test_a_shopper_sees_only_their_own_dunning_notices(cast, shops, plan):
    schedule()
    dunning_run(today=FIRST_DUE + timedelta(days=3))
    notice = DunningNotice.objects.get()
    assert list(DunningNotice.objects.restrict(cast.client2)) == [notice]
    for user in (cast.client3, cast.merchant, cast.outsider):
        assert not DunningNotice.objects.restrict(user).exists()
    assert DunningNotice.objects.restrict(cast.backoffice).count() == 1


def test_the_daily_task_runs_the_dunning_once_a_day(cast, shops, plan, monkeypatch):
    from bnpl import collection_tasks

    schedule()
    monkeypatch.setattr(timezone, "localdate", lambda *a: FIRST_DUE + timedelta(days=14))
    first = collection_tasks.dunning_daily.apply().result
    again = collection_tasks.dunning_daily.apply().result
    assert first == {"overdue": 1, "late_fees": 1, "notices": 1, "dunning_fees": 1}
    assert again == {"overdue": 0, "late_fees": 0, "notices": 0, "dunning_fees": 0}
