"""The fee module: which fee schedule applies to a shopper, late and dunning fees within their caps,
and the fee status the rule builder assigns from behaviour.

Precedence: person > fee status > group > region > default. A fee status (assigned by the status
rules below) may carry a schedule, e.g. "loyal" → a lower late fee: it sits under a person's own
schedule (an individual arrangement back office made on purpose) and above the group, because it
says how this shopper pays rather than where they were filed; "standard" carries none. A status
change therefore changes the next fee charged, the caps of the schedule that applies still hold,
and fees already charged stay as they were. Among the active schedules of one level and currency
whose `valid_from` has come, the latest one applies. A region schedule for a country ("DE") also
covers its subdivisions ("DE-BY"); the subdivision's own schedule wins over the country's.

Caps: a fee never exceeds `cap_per_instalment` less the fees already charged on that instalment, nor
`cap_share_of_purchase` % of the order amount less the fees already charged on the whole purchase.
A fee is cut to what is left, possibly to nothing (then no FeeCharge row is written). Fees are
separate rows: they never change an instalment's amount, so paying on time costs exactly the plan's
`total_payable`.

Fee status: the active FeeStatusRules are tried by position, the first that matches gives the status;
none matches → standard. Definitions the rules read (as of `today`):
- a late payment: an instalment due in the window that carries a late fee, or is still unpaid after
  its due date;
- the on-time streak: the most recent instalments (by due date) paid without a late fee, counted
  back until the first late one; instalments not yet due and unpaid are left out;
- the open balance: what is still to pay on active plans in the rule's currency.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.audit.services import audit_record
from portal.notifications.services import notify

from .dispute_state import disputed
from .models import (
    FeeCharge,
    FeeSchedule,
    FeeStatus,
    FeeStatusChange,
    FeeStatusKind,
    FeeStatusRule,
    Instalment,
    Plan,
    Shopper,
)
from .money import money_round

UNPAID_STATES = (
    Instalment.State.DUE,
    Instalment.State.OVERDUE,
    Instalment.State.PARTLY_PAID,
    Instalment.State.RETURNED,
)
ZERO = Decimal("0")


# --- which schedule applies -------------------------------------------------------------------


@dataclass(frozen=True)
class ResolutionStep:
    level: str  # FeeSchedule.Scope value
    label: str  # what this level looked for, translated
    schedule: FeeSchedule | None  # the schedule found on this level, if any
    applies: bool  # True for the one that applies


def fee_schedule_explain(shopper: Shopper, currency: str, *, today: date | None = None) -> list[ResolutionStep]:
    """Every level in precedence order with what it found: the page shows this as the explanation."""
    today = today or timezone.localdate()
    regions = _regions_of(shopper.region)
    status = shopper_fee_status(shopper)
    level_q = Q(scope=FeeSchedule.Scope.PERSON, shopper_id=shopper.pk) | Q(scope=FeeSchedule.Scope.DEFAULT)
    if status != FeeStatusKind.STANDARD:
        level_q |= Q(scope=FeeSchedule.Scope.STATUS, status=status)
    if shopper.customer_group_id:
        level_q |= Q(scope=FeeSchedule.Scope.GROUP, group_id=shopper.customer_group_id)
    if regions:
        level_q |= Q(scope=FeeSchedule.Scope.REGION, region__in=regions)
    candidates = list(
        FeeSchedule.objects.filter(level_q, active=True, currency=currency, valid_from__lte=today)
        .select_related("group")
        .order_by("-valid_from", "-id")
    )

    def first(predicate):
        return next((s for s in candidates if predicate(s)), None)

    group_name = shopper.customer_group.name if shopper.customer_group_id else ""
    found = [
        (
            FeeSchedule.Scope.PERSON,
            _("Person: a schedule for this shopper"),
            first(lambda s: s.scope == FeeSchedule.Scope.PERSON),
        ),
        (
            FeeSchedule.Scope.STATUS,
            _("Fee status: a schedule for “%(status)s”") % {"status": FeeStatusKind(status).label}
            if status != FeeStatusKind.STANDARD
            else _("Fee status: standard, which has no schedule of its own"),
            first(lambda s: s.scope == FeeSchedule.Scope.STATUS),
        ),
        (
            FeeSchedule.Scope.GROUP,
            _("Group: a schedule for “%(group)s”") % {"group": group_name}
            if group_name
            else _("Group: the shopper is in no customer group"),
            first(lambda s: s.scope == FeeSchedule.Scope.GROUP),
        ),
        (
            FeeSchedule.Scope.REGION,
            _("Region: a schedule for %(regions)s") % {"regions": " / ".join(regions)}
            if regions
            else _("Region: the shopper has no region"),
            _region_schedule(candidates, regions),
        ),
        (FeeSchedule.Scope.DEFAULT, _("Default"), first(lambda s: s.scope == FeeSchedule.Scope.DEFAULT)),
    ]
    steps, decided = [], False
    for level, label, schedule in found:
        applies = schedule is not None and not decided
        decided = decided or applies
        steps.append(ResolutionStep(level=level, label=label, schedule=schedule, applies=applies))
    return steps


def fee_schedule_for(shopper: Shopper, currency: str, *, today: date | None = None) -> tuple[FeeSchedule | None, str]:
    """The schedule that applies to `shopper` in `currency`, and why (a translated sentence).

    None when not even a default schedule exists for the currency: then no fee is charged."""
    steps = fee_schedule_explain(shopper, currency, today=today)
    chosen = next((step for step in steps if step.applies), None)
    if chosen is None:
        return None, _("No active fee schedule in %(currency)s: no fees are charged.") % {"currency": currency}
    skipped = [step.label for step in steps if step.level != chosen.level and steps.index(step) < steps.index(chosen)]
    why = _("%(level)s applies (schedule valid from %(valid_from)s).") % {
        "level": chosen.label,
        "valid_from": chosen.schedule.valid_from.isoformat(),
    }
    if skipped:
        why = _("Nothing more specific was found (%(skipped)s). ") % {"skipped": "; ".join(skipped)} + why
    return chosen.schedule, why


def shopper_fee_status(shopper: Shopper) -> str:
    """The shopper's fee status now (standard without a FeeStatus row); read from `select_related`
    ("…shopper__fee_status") when the caller joined it, else one query."""
    try:
        return shopper.fee_status.status
    except FeeStatus.DoesNotExist:
        return FeeStatusKind.STANDARD


def _regions_of(region: str) -> list[str]:
    """The shopper's region and, for a subdivision, its country: most specific first."""
    if not region:
        return []
    country = region.split("-", 1)[0]
    return [region] if country == region else [region, country]


def _region_schedule(candidates: list[FeeSchedule], regions: list[str]) -> FeeSchedule | None:
    for region in regions:
        for schedule in candidates:
            if schedule.scope == FeeSchedule.Scope.REGION and schedule.region == region:
                return schedule
    return None


# --- charging fees ----------------------------------------------------------------------------


def fee_capped(*, schedule: FeeSchedule, instalment: Instalment, wanted: Decimal) -> tuple[Decimal, str]:
    """`wanted` cut to what the caps leave (never below zero), with a note when it was cut."""
    currency = schedule.currency
    order = instalment.plan.order
    on_instalment = FeeCharge.objects.filter(instalment=instalment).aggregate(s=Sum("amount"))["s"] or ZERO
    on_purchase = FeeCharge.objects.filter(instalment__plan_id=instalment.plan_id).aggregate(s=Sum("amount"))["s"]
    share_cap = money_round(order.amount * schedule.cap_share_of_purchase / 100, currency)
    room_instalment = schedule.cap_per_instalment - on_instalment
    room_purchase = share_cap - (on_purchase or ZERO)
    amount = max(ZERO, min(wanted, room_instalment, room_purchase))
    if amount == wanted:
        return amount, ""
    if room_instalment <= room_purchase:
        note = _("cut to the cap of %(cap)s %(currency)s per instalment") % {
            "cap": schedule.cap_per_instalment,
            "currency": currency,
        }
    else:
        note = _("cut to the cap of %(share)s %% of the purchase (%(cap)s %(currency)s)") % {
            "share": schedule.cap_share_of_purchase,
            "cap": share_cap,
            "currency": currency,
        }
    return amount, note


def late_fees_charge(*, today: date) -> dict[str, int]:
    """Daily: charge the late fee once on every unpaid instalment past its due date and grace days.

    Orders with an open dispute are skipped until it is decided (bnpl/dispute_state.py).
    Idempotent: an instalment that has its late fee is not looked at again, and the unique
    constraint (instalment, kind) stops a second one even from a parallel run."""
    candidates = (
        Instalment.objects.filter(plan__state=Plan.State.ACTIVE, state__in=UNPAID_STATES, due_date__lt=today)
        .exclude(Exists(FeeCharge.objects.filter(instalment=OuterRef("pk"), kind=FeeCharge.Kind.LATE)))
        # An order with an open dispute (a return, a failed delivery) is paused: no fees until it is decided.
        .exclude(disputed("plan__order_id"))
        .select_related("plan__order__shopper__customer_group", "plan__order__shopper__fee_status")
        .order_by("plan_id", "number")
    )
    schedules: dict[tuple[int, str], FeeSchedule | None] = {}
    counts = {"charged": 0, "capped_to_nothing": 0, "in_grace": 0, "no_schedule": 0}
    for instalment in candidates.iterator(chunk_size=500):
        shopper = instalment.plan.order.shopper
        key = (shopper.pk, instalment.plan.currency)
        if key not in schedules:
            schedules[key] = fee_schedule_for(shopper, instalment.plan.currency, today=today)[0]
        schedule = schedules[key]
        if schedule is None or schedule.late_fee_amount <= 0:
            counts["no_schedule"] += 1
        elif today <= instalment.due_date + timedelta(days=schedule.grace_days):
            counts["in_grace"] += 1
        else:
            with transaction.atomic(durable=True):
                charge = _fee_charge(
                    instalment_id=instalment.pk, kind=FeeCharge.Kind.LATE, schedule=schedule, today=today
                )
            counts["charged" if charge else "capped_to_nothing"] += 1
    return counts


def dunning_fee_charge(*, instalment_id: int, today: date) -> FeeCharge | None:
    """For the dunning run, when it sends a dunning notice: charge the dunning fee once, within the
    caps. Runs inside the caller's transaction. None when no fee is due (paid, no schedule, no
    dunning fee, already charged, or nothing left under the caps)."""
    instalment = Instalment.objects.select_related(
        "plan__order__shopper__customer_group", "plan__order__shopper__fee_status"
    ).get(pk=instalment_id)
    schedule, _why = fee_schedule_for(instalment.plan.order.shopper, instalment.plan.currency, today=today)
    if schedule is None or schedule.dunning_fee_amount <= 0:
        return None
    with transaction.atomic():
        return _fee_charge(instalment_id=instalment_id, kind=FeeCharge.Kind.DUNNING, schedule=schedule, today=today)


def _fee_charge(*, instalment_id: int, kind: str, schedule: FeeSchedule, today: date) -> FeeCharge | None:
    """Inside a transaction: lock the plan (fees of one purchase are capped together), re-check, charge."""
    instalment = Instalment.objects.select_related("plan__order__shopper__user").get(pk=instalment_id)
    Plan.objects.select_for_update().filter(pk=instalment.plan_id).first()
    instalment.refresh_from_db(fields=["state", "paid_amount"])
    if instalment.state not in UNPAID_STATES or instalment.paid_amount >= instalment.amount:
        return None
    if FeeCharge.objects.filter(instalment=instalment, kind=kind).exists():
        return None
    wanted = schedule.late_fee_amount if kind == FeeCharge.Kind.LATE else schedule.dunning_fee_amount
    amount, note = fee_capped(schedule=schedule, instalment=instalment, wanted=wanted)
    if amount <= 0:
        return None
    if kind == FeeCharge.Kind.LATE:
        reason = _("Instalment %(number)s due on %(due)s unpaid after %(grace)s grace days") % {
            "number": instalment.number,
            "due": instalment.due_date.isoformat(),
            "grace": schedule.grace_days,
        }
    else:
        reason = _("Dunning notice for instalment %(number)s on %(day)s") % {
            "number": instalment.number,
            "day": today.isoformat(),
        }
    if note:
        reason = f"{reason}; {note}"
    try:
        with transaction.atomic():
            charge = FeeCharge.objects.create(
                instalment=instalment,
                kind=kind,
                amount=amount,
                currency=schedule.currency,
                reason=reason[:300],
                schedule=schedule,
            )
    except IntegrityError:  # a parallel run charged it first
        return None
    audit_record(
        action="bnpl.fee_charged",
        obj=charge,
        changes={"kind": kind, "amount": str(amount), "currency": schedule.currency, "instalment": instalment.pk},
        actor_label="fees",
    )
    order = instalment.plan.order
    notify(
        user=order.shopper.user,
        event="bnpl.fee_charged",
        context={
            "kind": kind,
            "amount": amount,
            "currency": schedule.currency,
            "number": instalment.number,
            "due_date": instalment.due_date,
            "reference": order.reference,
        },
        idempotency_key=f"bnpl.fee_charged:{charge.pk}",
    )
    return charge


# --- fee status -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    due_date: date | None
    state: str
    open_amount: Decimal
    currency: str
    late_fee: bool
    plan_active: bool


def _rows_by_shopper(shopper_ids: list[int]) -> dict[int, list[_Row]]:
    late = Exists(FeeCharge.objects.filter(instalment=OuterRef("pk"), kind=FeeCharge.Kind.LATE))
    rows: dict[int, list[_Row]] = {pk: [] for pk in shopper_ids}
    values = (
        Instalment.objects.filter(plan__order__shopper_id__in=shopper_ids, due_date__isnull=False)
        .exclude(state=Instalment.State.CANCELLED)
        .annotate(late_fee=late)
        .values_list(
            "plan__order__shopper_id",
            "due_date",
            "state",
            "amount",
            "paid_amount",
            "plan__currency",
            "late_fee",
            "plan__state",
        )
    )
    for shopper_id, due, state, amount, paid, currency, late_fee, plan_state in values:
        rows[shopper_id].append(
            _Row(
                due_date=due,
                state=state,
                open_amount=max(ZERO, amount - paid) if state != Instalment.State.PAID else ZERO,
                currency=currency,
                late_fee=late_fee,
                plan_active=plan_state == Plan.State.ACTIVE,
            )
        )
    return rows


def _is_late(row: _Row, today: date) -> bool:
    return row.late_fee or (row.state != Instalment.State.PAID and row.due_date < today)


def _measure(rule: FeeStatusRule, rows: list[_Row], today: date) -> Decimal:
    if rule.condition == FeeStatusRule.Condition.LATE_PAYMENTS:
        since = today - timedelta(days=rule.days or 0)
        return Decimal(sum(1 for row in rows if since <= row.due_date < today and _is_late(row, today)))
    if rule.condition == FeeStatusRule.Condition.ON_TIME_STREAK:
        considered = [row for row in rows if row.state == Instalment.State.PAID or row.due_date < today]
        streak = 0
        for row in sorted(considered, key=lambda r: r.due_date, reverse=True):
            if _is_late(row, today):
                break
            streak += 1
        return Decimal(streak)
    return sum((row.open_amount for row in rows if row.plan_active and row.currency == rule.currency), ZERO)


def _reason(rule: FeeStatusRule, value: Decimal) -> str:
    if rule.condition == FeeStatusRule.Condition.LATE_PAYMENTS:
        text = _("%(value)s late payments in the last %(days)s days (at least %(threshold)s)") % {
            "value": int(value),
            "days": rule.days,
            "threshold": rule.threshold.normalize(),
        }
    elif rule.condition == FeeStatusRule.Condition.ON_TIME_STREAK:
        text = _("%(value)s instalments paid on time in a row (at least %(threshold)s)") % {
            "value": int(value),
            "threshold": rule.threshold.normalize(),
        }
    else:
        text = _("open balance %(value)s %(currency)s (at least %(threshold)s)") % {
            "value": value,
            "currency": rule.currency,
            "threshold": rule.threshold,
        }
    return _("Rule “%(rule)s”: %(text)s") % {"rule": rule.name, "text": text}


def fee_status_decide(rows: list[_Row], rules: list[FeeStatusRule], today: date):
    """(status, reason, rule): the first active rule by position that matches; none → standard."""
    for rule in rules:
        value = _measure(rule, rows, today)
        if value >= rule.threshold:
            return rule.status, _reason(rule, value), rule
    return FeeStatusKind.STANDARD, _("No status rule matches."), None


def _status_apply(*, shopper_id: int, current: FeeStatus | None, decision, now) -> bool:
    status, reason, rule = decision
    before = current.status if current else FeeStatusKind.STANDARD
    if status == before:
        return False
    FeeStatus.objects.update_or_create(
        shopper_id=shopper_id, defaults={"status": status, "since": now, "reason": reason}
    )
    change = FeeStatusChange.objects.create(
        shopper_id=shopper_id, from_status=before, to_status=status, reason=reason, at=now, rule=rule
    )
    audit_record(
        action="bnpl.fee_status_changed",
        obj=change,
        changes={"status": [before, status], "reason": reason, "rule": rule.pk if rule else None},
        actor_label="fees",
    )
    return True


def _active_rules() -> list[FeeStatusRule]:
    return list(FeeStatusRule.objects.filter(active=True).order_by("position", "id"))


def fee_status_evaluate(*, today: date, chunk: int = 500) -> dict[str, int]:
    """Daily: apply the status rules to every shopper; a change writes a history row with its reason."""
    rules = _active_rules()
    counts = {"evaluated": 0, "changed": 0}
    shopper_ids = list(Shopper.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(shopper_ids), chunk):
        ids = shopper_ids[start : start + chunk]
        rows = _rows_by_shopper(ids)
        current = {status.shopper_id: status for status in FeeStatus.objects.filter(shopper_id__in=ids)}
        now = timezone.now()
        with transaction.atomic(durable=True):
            for shopper_id in ids:
                decision = fee_status_decide(rows[shopper_id], rules, today)
                counts["changed"] += _status_apply(
                    shopper_id=shopper_id, current=current.get(shopper_id), decision=decision, now=now
                )
        counts["evaluated"] += len(ids)
    return counts


def fee_status_reevaluate(*, shopper_id: int, today: date | None = None) -> FeeStatus | None:
    """On a payment event (paid, returned, …): re-apply the rules to one shopper, inside the caller's
    transaction. Returns the shopper's FeeStatus row (None while they are standard and never changed)."""
    today = today or timezone.localdate()
    with transaction.atomic():
        current = FeeStatus.objects.select_for_update().filter(shopper_id=shopper_id).first()
        decision = fee_status_decide(_rows_by_shopper([shopper_id])[shopper_id], _active_rules(), today)
        _status_apply(shopper_id=shopper_id, current=current, decision=decision, now=timezone.now())
    return FeeStatus.objects.filter(shopper_id=shopper_id).first()
