"""A fee status carries its own fee schedule: person > fee status > group > region > default, so a
status the rules assign changes the next fee charged, within the caps of the schedule that applies."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from bnpl import fees, fees_manage
from bnpl.models import CustomerGroup, FeeSchedule, FeeStatus, FeeStatusRule

from .factories import ShopperFactory, merchant_for
from .fee_helpers import priced_plan, schedule

pytestmark = pytest.mark.django_db
TODAY = date(2026, 6, 1)


@pytest.fixture
def shop(cast):
    return merchant_for(cast.merchant.organisation, actor=cast.admin)


@pytest.fixture
def shopper(cast):
    return ShopperFactory(user=cast.client2, region="DE-BY")


def status_set(shopper, status):
    FeeStatus.objects.update_or_create(shopper=shopper, defaults={"status": status})
    shopper.refresh_from_db()


def test_a_status_schedule_wins_over_group_region_and_default_but_not_over_a_person(shopper):
    group = CustomerGroup.objects.create(name="Students")
    shopper.customer_group = group
    shopper.save()
    schedule()
    schedule("region", region="DE-BY", late_fee_amount=Decimal("4.00"))
    by_group = schedule("group", group=group, late_fee_amount=Decimal("3.00"))
    loyal = schedule("status", status="loyal", late_fee_amount=Decimal("1.50"))
    schedule("status", status="watch", late_fee_amount=Decimal("8.00"))

    assert fees.fee_schedule_for(shopper, "EUR", today=TODAY)[0] == by_group  # standard has no schedule
    status_set(shopper, "loyal")
    found, why = fees.fee_schedule_for(shopper, "EUR", today=TODAY)
    assert found == loyal
    assert "Fee status" in why and "Loyal" in why and "Person" in why
    person = schedule("person", shopper=shopper, late_fee_amount=Decimal("0.50"))
    assert fees.fee_schedule_for(shopper, "EUR", today=TODAY)[0] == person


def test_the_explanation_shows_the_status_level_and_what_it_found(shopper):
    schedule()
    loyal = schedule("status", status="loyal", late_fee_amount=Decimal("1.50"))
    status_set(shopper, "loyal")

    steps = fees.fee_schedule_explain(shopper, "EUR", today=TODAY)

    assert [s.level for s in steps] == ["person", "status", "group", "region", "default"]
    assert steps[1].schedule == loyal and steps[1].applies
    assert "Loyal" in steps[1].label


def test_a_status_the_rules_assign_changes_the_next_late_fee(shop, shopper):
    schedule(late_fee_amount=Decimal("5.00"), grace_days=0)
    schedule("status", status="watch", late_fee_amount=Decimal("9.00"), grace_days=0)
    FeeStatusRule.objects.create(
        name="Late payer", condition="late_payments_in_days", days=90, threshold=1, status="watch", position=1
    )
    plan = priced_plan(merchant=shop, shopper=shopper)
    first, second = plan.instalments.get(number=1), plan.instalments.get(number=2)

    fees.late_fees_charge(today=first.due_date + timedelta(days=1))
    assert first.fee_charges.get().amount == Decimal("5.00")  # standard: the default schedule
    assert fees.fee_status_reevaluate(shopper_id=shopper.pk, today=first.due_date + timedelta(days=2)).status == "watch"
    fees.late_fees_charge(today=second.due_date + timedelta(days=1))

    charge = second.fee_charges.get()
    assert charge.amount == Decimal("9.00") and charge.schedule.scope == FeeSchedule.Scope.STATUS
    assert first.fee_charges.get().amount == Decimal("5.00")  # what was charged stays


def test_a_loyal_status_lowers_the_next_fee_and_losing_it_raises_it_again(shop, shopper):
    schedule(late_fee_amount=Decimal("5.00"), grace_days=0)
    schedule("status", status="loyal", late_fee_amount=Decimal("2.00"), grace_days=0)
    plan = priced_plan(merchant=shop, shopper=shopper)
    first, second = plan.instalments.get(number=1), plan.instalments.get(number=2)

    status_set(shopper, "loyal")
    fees.late_fees_charge(today=first.due_date + timedelta(days=1))
    status_set(shopper, "standard")
    fees.late_fees_charge(today=second.due_date + timedelta(days=1))

    assert first.fee_charges.get().amount == Decimal("2.00")
    assert second.fee_charges.get().amount == Decimal("5.00")


def test_the_caps_of_the_status_schedule_still_hold(shop, shopper):
    # The default charged 5.00 on the instalment; the restricted status's dunning fee of 8.00 meets its
    # own cap of 6.00 per instalment, so only 1.00 is left for it.
    schedule(late_fee_amount=Decimal("5.00"), grace_days=0)
    schedule(
        "status",
        status="restricted",
        late_fee_amount=Decimal("12.00"),
        dunning_fee_amount=Decimal("8.00"),
        grace_days=0,
        cap_per_instalment=Decimal("6.00"),
        cap_share_of_purchase=Decimal("100.00"),
    )
    plan = priced_plan(merchant=shop, shopper=shopper)
    first, second = plan.instalments.get(number=1), plan.instalments.get(number=2)
    fees.late_fees_charge(today=first.due_date + timedelta(days=1))

    status_set(shopper, "restricted")
    dunning = fees.dunning_fee_charge(instalment_id=first.pk, today=first.due_date + timedelta(days=2))
    fees.late_fees_charge(today=second.due_date + timedelta(days=1))

    assert dunning.amount == Decimal("1.00") and "cap of 6.00 EUR per instalment" in dunning.reason
    assert second.fee_charges.get().amount == Decimal("6.00")


def test_back_office_adds_a_status_schedule_and_bad_ones_are_refused(cast):
    made = fees_manage.fee_schedule_create(
        actor=cast.backoffice,
        scope="status",
        status="loyal",
        currency="EUR",
        late_fee_amount=Decimal("1.00"),
        grace_days=10,
        dunning_fee_amount=Decimal("0.50"),
        cap_per_instalment=Decimal("3.00"),
        cap_share_of_purchase=Decimal("5.00"),
        valid_from=TODAY,
    )
    assert made.target_label() == "Loyal"

    with pytest.raises(ValidationError):
        fees_manage.fee_schedule_create(
            actor=cast.backoffice,
            scope="status",
            status="standard",
            currency="EUR",
            late_fee_amount=Decimal("1.00"),
            cap_per_instalment=Decimal("3.00"),
            cap_share_of_purchase=Decimal("5.00"),
            valid_from=TODAY,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        schedule("default", status="loyal")  # only a status schedule names a status
    assert FeeSchedule.objects.count() == 1


def test_the_fees_page_shows_the_status_level_and_refuses_a_status_schedule_without_a_status(cast, login_as, shopper):
    schedule()
    schedule("status", status="loyal", late_fee_amount=Decimal("1.50"))
    status_set(shopper, "loyal")
    client = login_as(cast.backoffice)

    page = client.get("/bnpl/fees/", {"shopper": shopper.user.email, "currency": "EUR"})
    refused = client.post(
        "/bnpl/fees/",
        {
            "form": "schedule",
            "schedule-scope": "status",
            "schedule-currency": "EUR",
            "schedule-late_fee_amount": "1.00",
            "schedule-grace_days": "0",
            "schedule-dunning_fee_amount": "0",
            "schedule-cap_per_instalment": "3.00",
            "schedule-cap_share_of_purchase": "5.00",
            "schedule-valid_from": "2026-01-01",
        },
    )

    assert page.status_code == 200
    assert 'data-level="status"' in page.text and "then fee status, then group" in page.text
    assert refused.status_code == 400 and "needs the status" in refused.text
    assert FeeSchedule.objects.count() == 2
