"""The daily overdue and dunning run.

`dunning_run(*, today)`:
1. instalments of active plans past their due date with something unpaid (due, returned) become
   overdue;
2. late fees are charged after the grace days (`fees.late_fees_charge`, once per instalment);
3. each overdue (or partly paid, past due) instalment gets the dunning level its age has reached:
   level n once `today >= due_date + BNPL_DUNNING_DAYS[n-1]`. Level 1 is a reminder; from level 2
   the notice carries the dunning fee (`fees.dunning_fee_charge`: charged once per instalment,
   within the caps). Each notice is a `DunningNotice` row (one per instalment and level) and a
   message to the shopper (`bnpl.dunning_notice`, through the outbox). A level skipped because the
   run did not happen is not sent afterwards: the shopper gets the level reached.

Orders with an open dispute (bnpl/dispute_state.py) are left alone: not marked overdue, no fee, no
notice, until the dispute is decided. Idempotent: a second run on the same day finds every level
sent and every fee charged, and changes nothing.
"""

from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from portal.audit.services import audit_record
from portal.notifications.services import notify

from . import fees
from .dispute_state import disputed
from .models import DunningNotice, Instalment, Plan

DUNNED_STATES = (Instalment.State.OVERDUE, Instalment.State.PARTLY_PAID)
FEE_FROM_LEVEL = 2


def overdue_mark(*, today: date) -> int:
    """Unpaid instalments past their due date become overdue (disputed orders wait); returns how many."""
    return (
        Instalment.objects.filter(
            plan__state=Plan.State.ACTIVE,
            state__in=(Instalment.State.DUE, Instalment.State.RETURNED),
            due_date__lt=today,
            paid_amount__lt=F("amount"),
        )
        .exclude(disputed("plan__order_id"))
        .update(state=Instalment.State.OVERDUE)
    )


def level_reached(due_date: date, today: date) -> int:
    """The dunning level an instalment due on `due_date` has reached by `today` (0: none yet)."""
    level = 0
    for number, days in enumerate(settings.BNPL_DUNNING_DAYS, start=1):
        if today >= due_date + timedelta(days=days):
            level = number
    return level


def dunning_run(*, today: date | None = None) -> dict[str, int]:
    today = today or timezone.localdate()
    counts = {"overdue": overdue_mark(today=today)}
    counts["late_fees"] = fees.late_fees_charge(today=today)["charged"]
    counts["notices"] = counts["dunning_fees"] = 0
    candidates = (
        Instalment.objects.filter(
            plan__state=Plan.State.ACTIVE, state__in=DUNNED_STATES, due_date__lt=today, paid_amount__lt=F("amount")
        )
        .exclude(disputed("plan__order_id"))
        .annotate(sent=Max("dunning_notices__level"))
        .order_by("plan_id", "number")
    )
    for instalment in candidates.iterator(chunk_size=500):
        level = level_reached(instalment.due_date, today)
        if level <= (instalment.sent or 0):
            continue
        notice = _notice_send(instalment_id=instalment.pk, level=level, today=today)
        if notice is not None:
            counts["notices"] += 1
            counts["dunning_fees"] += notice.fee_id is not None
    return counts


def _notice_send(*, instalment_id: int, level: int, today: date) -> DunningNotice | None:
    """One notice in its own transaction, the plan locked (fees of a purchase are capped together)."""
    with transaction.atomic(durable=True):
        instalment = Instalment.objects.select_related("plan__order__shopper__user", "plan__order__merchant").get(
            pk=instalment_id
        )
        Plan.objects.select_for_update().filter(pk=instalment.plan_id).first()
        instalment.refresh_from_db(fields=["state", "paid_amount", "amount"])
        if instalment.state not in DUNNED_STATES or instalment.paid_amount >= instalment.amount:
            return None
        if DunningNotice.objects.filter(instalment=instalment, level__gte=level).exists():
            return None
        fee = fees.dunning_fee_charge(instalment_id=instalment.pk, today=today) if level >= FEE_FROM_LEVEL else None
        order = instalment.plan.order
        open_amount = instalment.amount - instalment.paid_amount
        try:
            with transaction.atomic():
                notice = DunningNotice.objects.create(
                    instalment=instalment, level=level, sent_on=today, open_amount=open_amount, fee=fee
                )
        except IntegrityError:  # a parallel run sent this level first
            return None
        audit_record(
            action="bnpl.dunning_notice_sent",
            obj=notice,
            actor_label="dunning",
            changes={
                "level": level,
                "instalment": instalment.pk,
                "open": str(open_amount),
                "fee": fee.pk if fee else None,
            },
        )
        notify(
            user=order.shopper.user,
            event="bnpl.dunning_notice",
            context={
                "level": level,
                "reference": order.reference,
                "shop": order.merchant.trading_name,
                "number": instalment.number,
                "due_date": instalment.due_date,
                "amount": open_amount,
                "currency": instalment.plan.currency,
                "fee": fee.amount if fee else None,
            },
            idempotency_key=f"bnpl.dunning:{instalment.pk}:{level}",
        )
    return notice
