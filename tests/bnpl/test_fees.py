"""The fee module: which schedule applies and why, late fees within grace days and caps, charged once,
no fee at all for a plan paid on time, fee status rules with their history."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bnpl import fees
from bnpl.models import CustomerGroup, FeeCharge, FeeStatus, FeeStatusChange, FeeStatusRule, Instalment
from portal.audit.models import AuditEvent
from portal.notifications.models import Notification

from .factories import ShopperFactory, merchant_for
from .fee_helpers import days, priced_plan, schedule

pytestmark = pytest.mark.django_db
TODAY = date(2026, 6, 1)


@pytest.fixture
def shop(cast):
    return merchant_for(cast.merchant.organisation, actor=cast.admin)


@pytest.fixture
def shopper(cast):
    return ShopperFactory(user=cast.client2, region="DE-BY")


def pay(instalment: Instalment) -> None:
    instalment.paid_amount = instalment.amount
    instalment.state = Instalment.State.PAID
    instalment.save(update_fields=["paid_amount", "state"])


# --- precedence -------------------------------------------------------------------------------


def test_precedence_goes_person_then_group_then_region_then_default(shopper):
    group = CustomerGroup.objects.create(name="Loyal customers")
    shopper.customer_group = group
    shopper.save()
    default = schedule()
    country = schedule("region", region="DE", late_fee_amount=Decimal("4.50"))
    region = schedule("region", region="DE-BY", late_fee_amount=Decimal("4.00"))
    by_group = schedule("group", group=group, late_fee_amount=Decimal("2.50"))
    person = schedule("person", shopper=shopper, late_fee_amount=Decimal("1.00"))

    found, why = fees.fee_schedule_for(shopper, "EUR", today=TODAY)
    assert found == person
    assert "Person" in why and "valid from 2026-01-01" in why

    person.active = False
    person.save()
    found, why = fees.fee_schedule_for(shopper, "EUR", today=TODAY)
    assert found == by_group
    assert "Loyal customers" in why and "Nothing more specific" in why

    shopper.customer_group = None
    shopper.save()
    found, why = fees.fee_schedule_for(shopper, "EUR", today=TODAY)
    assert found == region  # the subdivision's own schedule wins over its country's
    assert "DE-BY / DE" in why and "no customer group" in why

    region.delete()
    assert fees.fee_schedule_for(shopper, "EUR", today=TODAY)[0] == country
    country.delete()
    found, why = fees.fee_schedule_for(shopper, "EUR", today=TODAY)
    assert found == default
    assert why.endswith("Default applies (schedule valid from 2026-01-01).")


def test_explanation_lists_every_level_and_marks_the_one_that_applies(shopper):
    default = schedule()
    region = schedule("region", region="DE-BY")
    steps = fees.fee_schedule_explain(shopper, "EUR", today=TODAY)
    assert [s.level for s in steps] == ["person", "status", "group", "region", "default"]
    assert [s.applies for s in steps] == [False, False, False, True, False]
    assert steps[3].schedule == region and steps[4].schedule == default


def test_a_schedule_not_yet_valid_or_in_another_currency_does_not_apply(shopper):
    schedule(valid_from=TODAY + timedelta(days=1))
    schedule(currency="USD")
    found, why = fees.fee_schedule_for(shopper, "EUR", today=TODAY)
    assert found is None
    assert "no fees are charged" in why


# --- late fees --------------------------------------------------------------------------------


def test_no_late_fee_within_the_grace_days_and_one_after(shop, shopper):
    schedule(grace_days=5)
    plan = priced_plan(merchant=shop, shopper=shopper)
    first = plan.instalments.get(number=1)
    assert fees.late_fees_charge(today=first.due_date + timedelta(days=5))["charged"] == 0
    assert not FeeCharge.objects.exists()
    fees.late_fees_charge(today=first.due_date + timedelta(days=6))
    charge = FeeCharge.objects.get()
    assert (charge.instalment, charge.kind, charge.amount, charge.currency) == (first, "late", Decimal("5.00"), "EUR")
    assert "5 grace days" in charge.reason
    assert AuditEvent.objects.filter(action="bnpl.fee_charged").count() == 1
    told = Notification.objects.get(user=shopper.user, event="bnpl.fee_charged")
    assert "Late fee of" in told.title and "5.00" in told.title
    assert "never costs a fee" in told.body


def test_running_the_daily_charge_twice_charges_once(shop, shopper):
    schedule()
    plan = priced_plan(merchant=shop, shopper=shopper)
    late_day = plan.instalments.get(number=1).due_date + timedelta(days=10)
    first = fees.late_fees_charge(today=late_day)
    second = fees.late_fees_charge(today=late_day)
    assert first["charged"] == 1
    assert second["charged"] == 0
    assert FeeCharge.objects.count() == 1


def test_a_late_fee_over_the_cap_per_instalment_is_cut_to_the_cap(shop, shopper):
    schedule(late_fee_amount=Decimal("25.00"), cap_per_instalment=Decimal("10.00"), cap_share_of_purchase=100)
    plan = priced_plan(merchant=shop, shopper=shopper)
    fees.late_fees_charge(today=plan.instalments.get(number=1).due_date + timedelta(days=6))
    charge = FeeCharge.objects.get()
    assert charge.amount == Decimal("10.00")
    assert "cap of 10.00 EUR per instalment" in charge.reason


def test_the_dunning_fee_gets_only_what_the_late_fee_left_under_the_instalment_cap(shop, shopper):
    schedule(late_fee_amount=Decimal("5.00"), dunning_fee_amount=Decimal("2.50"), cap_per_instalment=Decimal("6.00"))
    plan = priced_plan(merchant=shop, shopper=shopper)
    first = plan.instalments.get(number=1)
    fees.late_fees_charge(today=first.due_date + timedelta(days=6))
    dunning = fees.dunning_fee_charge(instalment_id=first.pk, today=first.due_date + timedelta(days=7))
    assert dunning.amount == Decimal("1.00")
    assert fees.dunning_fee_charge(instalment_id=first.pk, today=first.due_date + timedelta(days=8)) is None
    assert first.fee_charges.count() == 2


def test_fees_on_a_purchase_never_exceed_their_share_of_it(shop, shopper):
    # 10 % of a 100.00 purchase: two late fees of 5.00 fit, the third is cut to nothing (no row).
    schedule(late_fee_amount=Decimal("5.00"), cap_share_of_purchase=Decimal("10.00"))
    plan = priced_plan(merchant=shop, shopper=shopper, key="pay_in_4", amount=Decimal("100.00"))
    last_due = plan.instalments.order_by("-number").first().due_date
    counts = fees.late_fees_charge(today=last_due + timedelta(days=30))
    assert counts == {"charged": 2, "capped_to_nothing": 2, "in_grace": 0, "no_schedule": 0}
    assert sum(c.amount for c in FeeCharge.objects.all()) == Decimal("10.00")


def test_a_share_cap_below_the_fee_cuts_it_and_says_so(shop, shopper):
    schedule(late_fee_amount=Decimal("5.00"), cap_share_of_purchase=Decimal("3.00"))
    plan = priced_plan(merchant=shop, shopper=shopper, key="pay_in_4", amount=Decimal("100.00"))
    fees.late_fees_charge(today=plan.instalments.get(number=1).due_date + timedelta(days=6))
    charge = FeeCharge.objects.get()
    assert charge.amount == Decimal("3.00")
    assert "3.00 % of the purchase" in charge.reason


@pytest.mark.parametrize("key", ["pay_in_4", "monthly_6"])
def test_paying_a_whole_plan_on_time_costs_exactly_the_disclosed_total(shop, shopper, key):
    schedule(grace_days=0)  # the strictest schedule: a fee the day after a missed due date
    schedule("region", region="DE-BY", late_fee_amount=Decimal("9.00"), grace_days=0)
    plan = priced_plan(merchant=shop, shopper=shopper, key=key, amount=Decimal("600.00"))
    instalments = {i.due_date: i for i in plan.instalments.all()}
    for day in days(plan.start_date, max(instalments) + timedelta(days=40)):
        if day in instalments:
            pay(instalments[day])
        fees.late_fees_charge(today=day)
    paid = sum(i.paid_amount for i in plan.instalments.all())
    assert paid == plan.total_payable
    assert not FeeCharge.objects.exists()
    assert not Notification.objects.filter(event="bnpl.fee_charged").exists()


def test_a_paid_instalment_is_never_charged(shop, shopper):
    schedule()
    plan = priced_plan(merchant=shop, shopper=shopper)
    first = plan.instalments.get(number=1)
    pay(first)
    assert fees.late_fees_charge(today=first.due_date + timedelta(days=60))["charged"] >= 1
    assert not first.fee_charges.exists()


# --- fee status -------------------------------------------------------------------------------


@pytest.fixture
def rules():
    return [
        FeeStatusRule.objects.create(
            name="Late payer", condition="late_payments_in_days", days=90, threshold=2, status="watch", position=1
        ),
        FeeStatusRule.objects.create(
            name="Loyal payer", condition="on_time_streak", threshold=3, status="loyal", position=2
        ),
        FeeStatusRule.objects.create(
            name="Big balance", condition="open_balance", threshold=10000, status="restricted", position=3
        ),
    ]


def test_status_rules_assign_watch_then_loyal_with_history(shop, shopper, rules):
    plan = priced_plan(merchant=shop, shopper=shopper, start=date(2026, 1, 5))
    second = plan.instalments.get(number=2)
    today = second.due_date + timedelta(days=1)  # two instalments unpaid past due
    counts = fees.fee_status_evaluate(today=today)
    assert counts == {"evaluated": 1, "changed": 1}
    status = FeeStatus.objects.get(shopper=shopper)
    assert status.status == "watch"
    assert status.reason == "Rule “Late payer”: 2 late payments in the last 90 days (at least 2)"
    assert fees.fee_status_evaluate(today=today)["changed"] == 0  # nothing new: no second history row

    # Everything paid (no schedule, so no late fee marked them): the streak rule now matches.
    for instalment in plan.instalments.all():
        pay(instalment)
    last_due = plan.instalments.order_by("-number").first().due_date
    status = fees.fee_status_reevaluate(shopper_id=shopper.pk, today=last_due + timedelta(days=1))
    assert status.status == "loyal"
    history = list(FeeStatusChange.objects.filter(shopper=shopper).order_by("at", "id"))
    assert [(h.from_status, h.to_status, h.rule) for h in history] == [
        ("standard", "watch", rules[0]),
        ("watch", "loyal", rules[1]),
    ]
    assert history[1].reason == "Rule “Loyal payer”: 6 instalments paid on time in a row (at least 3)"
    assert AuditEvent.objects.filter(action="bnpl.fee_status_changed").count() == 2


def test_an_on_time_streak_makes_a_shopper_loyal(shop, shopper, rules):
    plan = priced_plan(merchant=shop, shopper=shopper, start=date(2026, 1, 5))
    paid = list(plan.instalments.order_by("number")[:3])
    for instalment in paid:
        pay(instalment)
    status = fees.fee_status_reevaluate(shopper_id=shopper.pk, today=paid[-1].due_date + timedelta(days=1))
    assert status.status == "loyal"
    assert "3 instalments paid on time in a row" in status.reason
    change = FeeStatusChange.objects.get(shopper=shopper)
    assert (change.from_status, change.to_status, change.rule) == ("standard", "loyal", rules[1])


def test_the_first_matching_rule_by_position_decides(shop, shopper, rules):
    priced_plan(merchant=shop, shopper=shopper, amount=Decimal("6000.00"), key="monthly_24")
    FeeStatusRule.objects.filter(name="Big balance").update(position=0, threshold=5000)
    status = fees.fee_status_reevaluate(shopper_id=shopper.pk, today=date(2026, 3, 3))
    assert status.status == "restricted"
    assert "open balance" in status.reason


def test_without_matching_rules_a_shopper_stays_standard_and_gets_no_history(shop, shopper, rules):
    priced_plan(merchant=shop, shopper=shopper)
    assert fees.fee_status_reevaluate(shopper_id=shopper.pk, today=date(2026, 3, 3)) is None
    assert not FeeStatusChange.objects.exists()


@pytest.mark.parametrize("shoppers", [2, 12])
def test_the_daily_status_run_costs_the_same_queries_for_more_shoppers(
    shop, rules, shoppers, django_assert_max_num_queries
):
    for _n in range(shoppers):
        priced_plan(merchant=shop, shopper=ShopperFactory(), start=date(2026, 1, 5))
    fees.fee_status_evaluate(today=date(2026, 1, 6))  # nobody is late or loyal yet: no writes
    with django_assert_max_num_queries(6):
        assert fees.fee_status_evaluate(today=date(2026, 1, 6)) == {"evaluated": shoppers, "changed": 0}


def test_the_daily_beat_task_charges_and_evaluates_and_a_rerun_changes_nothing(shop, shopper, rules, settings):
    from bnpl.fees_tasks import fees_daily

    assert settings.CELERY_BEAT_SCHEDULE["bnpl-fees-daily"]["task"] == fees_daily.name
    schedule()
    # Started four months ago and never paid: three instalments late within the last 90 days.
    priced_plan(merchant=shop, shopper=shopper, start=timezone.localdate() - timedelta(days=120))
    first = fees_daily.apply().result  # the eager result itself: .get() is refused once a worker ran in this process
    assert first["late_fees"]["charged"] >= 1 and first["status"]["changed"] == 1
    again = fees_daily.apply().result
    assert again["late_fees"]["charged"] == 0 and again["status"]["changed"] == 0
    assert FeeStatus.objects.get(shopper=shopper).status == "watch"
