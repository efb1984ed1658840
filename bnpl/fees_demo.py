"""Demo data of the fee module: a default EUR schedule, a "Loyal customers" group with lower fees,
a schedule for Bavaria (DE-BY), schedules for the fee statuses "loyal" (lower) and "watch" (the
default's fees, fewer grace days) and two status rules that assign them. Written by back office through the services;
running it again changes nothing."""

from datetime import date
from decimal import Decimal

from django.contrib.auth import get_user_model

from . import fees_manage
from .models import CustomerGroup, FeeSchedule, FeeStatusRule

VALID_FROM = date(2026, 1, 1)
LOYAL_GROUP = "Loyal customers"


def _schedule_ensure(actor, *, scope, group=None, region="", status="", **amounts) -> None:
    if FeeSchedule.objects.filter(scope=scope, group=group, region=region, status=status, currency="EUR").exists():
        return
    fees_manage.fee_schedule_create(
        actor=actor,
        scope=scope,
        shopper=None,
        group=group,
        region=region,
        status=status,
        currency="EUR",
        active=True,
        valid_from=VALID_FROM,
        **{name: Decimal(value) if isinstance(value, str) else value for name, value in amounts.items()},
    )


def fees_demo_step(*, scale: str, stdout) -> None:
    actor = get_user_model().objects.filter(email="backoffice@example.com").first()
    if actor is None:
        stdout.write("  bnpl fees: backoffice@example.com is missing; nothing to do.")
        return
    S = FeeSchedule.Scope
    _schedule_ensure(
        actor,
        scope=S.DEFAULT,
        late_fee_amount="5.00",
        grace_days=5,
        dunning_fee_amount="2.50",
        cap_per_instalment="10.00",
        cap_share_of_purchase="10.00",
    )
    group = CustomerGroup.objects.filter(name=LOYAL_GROUP).first() or fees_manage.customer_group_create(
        actor=actor, name=LOYAL_GROUP, description="Long-standing customers who pay reliably: lower fees."
    )
    _schedule_ensure(
        actor,
        scope=S.GROUP,
        group=group,
        late_fee_amount="2.50",
        grace_days=10,
        dunning_fee_amount="1.00",
        cap_per_instalment="5.00",
        cap_share_of_purchase="5.00",
    )
    _schedule_ensure(
        actor,
        scope=S.REGION,
        region="DE-BY",
        late_fee_amount="4.00",
        grace_days=7,
        dunning_fee_amount="2.00",
        cap_per_instalment="8.00",
        cap_share_of_purchase="8.00",
    )
    # A status the rules assign carries its own fees (precedence person > status > group > region > default):
    # "loyal" lower ones, "watch" the default's with fewer grace days.
    for status, late, grace, dunning, cap, share in (
        ("loyal", "2.00", 10, "1.00", "5.00", "5.00"),
        ("watch", "5.00", 2, "2.50", "10.00", "10.00"),
    ):
        _schedule_ensure(
            actor,
            scope=S.STATUS,
            status=status,
            late_fee_amount=late,
            grace_days=grace,
            dunning_fee_amount=dunning,
            cap_per_instalment=cap,
            cap_share_of_purchase=share,
        )
    rules = [
        ("Late payer", FeeStatusRule.Condition.LATE_PAYMENTS, 90, "2", "watch", 1),
        ("Loyal payer", FeeStatusRule.Condition.ON_TIME_STREAK, None, "6", "loyal", 2),
    ]
    for name, condition, days, threshold, status, position in rules:
        if not FeeStatusRule.objects.filter(name=name).exists():
            fees_manage.fee_status_rule_create(
                actor=actor,
                name=name,
                condition=condition,
                days=days,
                threshold=Decimal(threshold),
                currency="EUR",
                status=status,
                position=position,
                active=True,
            )
    stdout.write(
        f"  bnpl fees: {FeeSchedule.objects.count()} fee schedules, {CustomerGroup.objects.count()} groups, "
        f"{FeeStatusRule.objects.count()} status rules"
    )
