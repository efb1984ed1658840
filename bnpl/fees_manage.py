"""Back office's writes in the fee module: customer groups, fee schedules, status rules, a shopper's group.

Each is one transaction with its audit event; the permission is checked again inside it.
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction

from portal.audit.services import audit_record

from .fees_permissions import can_manage_fees
from .models import CustomerGroup, FeeSchedule, FeeStatusRule, Shopper

SCHEDULE_FIELDS = (
    "scope",
    "shopper",
    "group",
    "status",
    "region",
    "currency",
    "late_fee_amount",
    "grace_days",
    "dunning_fee_amount",
    "cap_per_instalment",
    "cap_share_of_purchase",
    "active",
    "valid_from",
)
RULE_FIELDS = ("name", "condition", "days", "threshold", "currency", "status", "position", "active")


def _check(actor) -> None:
    if not can_manage_fees(actor):
        raise PermissionDenied


def customer_group_create(*, actor, name: str, description: str = "") -> CustomerGroup:
    _check(actor)
    with transaction.atomic(durable=True):
        group = CustomerGroup(name=name, description=description)
        group.full_clean()
        group.save()
        audit_record(action="bnpl.customer_group_created", actor=actor, obj=group, changes={"name": name})
    return group


def fee_schedule_create(*, actor, **fields) -> FeeSchedule:
    """Fields as in SCHEDULE_FIELDS (shopper and group as objects or None). Invalid → ValidationError."""
    _check(actor)
    with transaction.atomic(durable=True):
        schedule = FeeSchedule(**{name: fields[name] for name in SCHEDULE_FIELDS if name in fields})
        schedule.full_clean()
        schedule.save()
        audit_record(
            action="bnpl.fee_schedule_created",
            actor=actor,
            obj=schedule,
            changes={name: str(getattr(schedule, name)) for name in SCHEDULE_FIELDS if name not in ("shopper", "group")}
            | {"target": schedule.target_label()},
        )
    return schedule


def fee_status_rule_create(*, actor, **fields) -> FeeStatusRule:
    _check(actor)
    with transaction.atomic(durable=True):
        rule = FeeStatusRule(**{name: fields[name] for name in RULE_FIELDS if name in fields})
        rule.full_clean()
        rule.save()
        audit_record(
            action="bnpl.fee_status_rule_created",
            actor=actor,
            obj=rule,
            changes={name: str(getattr(rule, name)) for name in RULE_FIELDS},
        )
    return rule


def shopper_customer_group_set(*, actor, shopper_id: int, group: CustomerGroup | None) -> Shopper:
    _check(actor)
    with transaction.atomic(durable=True):
        shopper = Shopper.objects.select_for_update().get(pk=shopper_id)
        before = shopper.customer_group.name if shopper.customer_group_id else ""
        shopper.customer_group = group
        shopper.save(update_fields=["customer_group"])
        audit_record(
            action="bnpl.shopper_group_set",
            actor=actor,
            obj=shopper,
            changes={"customer_group": [before, group.name if group else ""]},
        )
    return shopper
