"""Writes of the commissions app: accrual runs, closing a month, four-eyes approval, payout.

Four eyes go through the approval engine (portal.approvals, kind "commissions.statement"): closing
a month asks for an approval of each prepared statement; approving or rejecting decides that
approval (the engine locks it, refuses the preparer and a second decision); `statement_decided`,
the engine's `approval_decided` receiver, then moves the statement in the same transaction with a
conditional update (`UPDATE … WHERE status = 'prepared'`) and its audit event. Approving, rejecting
and marking paid need a session verified by a second factor.
"""

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clients.models import Client
from intermediaries.models import TransactionType
from portal.approvals.models import Approval
from portal.approvals.selectors import approval_pending_for
from portal.approvals.services import approval_approve, approval_reject, approval_request
from portal.audit.services import audit_record

from .accrual import broker_month_accrue
from .models import Accrual, CommissionMonth, Kind, Statement, month_end, month_start
from .permissions import can_operate_payouts

STATEMENT_KIND = "commissions.statement"


def month_brokers(*, period: date) -> list[int]:
    """Everyone whose month may have entries: advisors of clients with portfolios, anyone who has
    entries already (so a client who moved to another broker leaves the old broker's month), and
    anyone who earned on a booking reversed in the month (they give it back, see `accrual`)."""
    advisors = set(
        Client.objects.filter(advisor__isnull=False, portfolios__isnull=False)
        .values_list("advisor_id", flat=True)
        .distinct()
    )
    advisors |= set(
        Accrual.objects.filter(period=period)
        .exclude(kind="override")
        .values_list("beneficiary_id", flat=True)
        .distinct()
    )
    advisors |= set(
        Accrual.objects.filter(
            kind__in=[Kind.UPFRONT, Kind.FIXED],
            source_transaction__referenced_by__type=TransactionType.REVERSAL,
            source_transaction__referenced_by__trade_date__gte=period,
            source_transaction__referenced_by__trade_date__lte=month_end(period),
        )
        .values_list("beneficiary_id", flat=True)
        .distinct()
    )
    return sorted(advisors)


def month_ensure(*, period: date) -> CommissionMonth:
    period = month_start(period)
    month, _ = CommissionMonth.objects.get_or_create(period=period)
    return month


def month_accrue(*, period: date, broker_ids=None) -> int:
    """Recompute the month for these brokers (default: all); returns the number of entries. Idempotent."""
    period = month_start(period)
    month = month_ensure(period=period)
    if month.status != CommissionMonth.Status.OPEN:
        return 0
    ids = month_brokers(period=period) if broker_ids is None else sorted(set(broker_ids))
    count = sum(broker_month_accrue(broker_id=broker_id, period=period) for broker_id in ids)
    CommissionMonth.objects.filter(pk=month.pk).update(last_accrued_at=timezone.now())
    return count


def month_close_start(*, actor, period: date) -> CommissionMonth:
    """Begin closing a finished month: from now on only the closing run computes it."""
    if not can_operate_payouts(actor):
        raise PermissionDenied(_("Only back-office staff close commission months."))
    period = month_start(period)
    if month_end(period) >= timezone.localdate():
        raise ValidationError(_("A month can be closed only after it has ended."), code="not_ended")
    month = month_ensure(period=period)
    with transaction.atomic(durable=True):
        started = CommissionMonth.objects.filter(pk=month.pk, status=CommissionMonth.Status.OPEN).update(
            status=CommissionMonth.Status.CLOSING, closed_by=actor
        )
        if not started:
            raise ValidationError(_("This month is already being closed or closed."), code="not_open")
        audit_record(
            action="commissions.month_closing", actor=actor, obj=month, changes={"status": ["open", "closing"]}
        )
    month.refresh_from_db()
    return month


def month_close_finish(*, period: date) -> list[int]:
    """The closing run: compute every broker once more, then prepare (freeze) each statement.

    Returns the ids of the prepared statements (their PDFs are rendered next). Safe to repeat:
    a closed month is left alone, and statements already prepared stay as they are.
    """
    period = month_start(period)
    month = CommissionMonth.objects.get(period=period)
    if month.status != CommissionMonth.Status.CLOSING:
        return []
    for broker_id in month_brokers(period=period):
        broker_month_accrue(broker_id=broker_id, period=period, final=True)
    now = timezone.now()
    prepared = []
    with transaction.atomic(durable=True):
        month = CommissionMonth.objects.select_for_update().get(pk=month.pk)
        if month.status != CommissionMonth.Status.CLOSING:
            return []
        Statement.objects.filter(period=period, status=Statement.Status.ACCRUED, accrual_count=0).delete()
        accrued = (
            Statement.objects.select_for_update(of=("self",))
            .select_related("beneficiary", "firm")
            .filter(period=period, status=Statement.Status.ACCRUED)
        )
        for statement in accrued:
            statement.status = Statement.Status.PREPARED
            statement.prepared_at = now
            statement.prepared_by_id = month.closed_by_id
            statement.save(update_fields=["status", "prepared_at", "prepared_by", "updated_at"])
            audit_record(
                action="commissions.statement_prepared",
                actor=month.closed_by,
                obj=statement,
                changes={
                    "status": ["accrued", "prepared"],
                    "total": str(statement.total),
                    "entries": statement.accrual_count,
                },
            )
            _approval_ask(statement, maker=month.closed_by)
            prepared.append(statement.pk)
        month.status = CommissionMonth.Status.CLOSED
        month.closed_at = now
        month.save(update_fields=["status", "closed_at"])
        audit_record(
            action="commissions.month_closed",
            actor=month.closed_by,
            obj=month,
            changes={"status": ["closing", "closed"], "statements": len(prepared)},
        )
        from .tasks import statement_pdf_render

        for statement_id in prepared:
            transaction.on_commit(lambda pk=statement_id: statement_pdf_render.delay(pk))
    return prepared


def statement_approve(*, actor, statement_id: int, second_factor_verified: bool) -> Statement:
    """The second pair of eyes: someone other than the preparer approves a prepared statement."""
    statement = _statement_to_decide(actor, statement_id, second_factor_verified)
    approval_approve(
        actor=actor,
        approval_id=_pending_approval_id(statement),
        second_factor_verified=second_factor_verified,
    )
    statement.refresh_from_db()
    return statement


def statement_reject(*, actor, statement_id: int, reason: str, second_factor_verified: bool) -> Statement:
    """Someone other than the preparer sends a prepared statement back, saying why; it is not paid
    until back office prepares it again (`statement_resubmit`) and a second person approves it."""
    if not str(reason or "").strip():
        raise ValidationError({"reason": [_("Say why you reject it.")]}, code="reason_required")
    statement = _statement_to_decide(actor, statement_id, second_factor_verified)
    approval_reject(
        actor=actor,
        approval_id=_pending_approval_id(statement),
        reason=reason,
        second_factor_verified=second_factor_verified,
    )
    statement.refresh_from_db()
    return statement


def statement_resubmit(*, actor, statement_id: int) -> Statement:
    """Prepare a rejected statement again: the actor becomes its preparer and a new approval is asked for."""
    if not can_operate_payouts(actor):
        raise PermissionDenied(_("Only back-office staff prepare commission statements."))
    with transaction.atomic(durable=True):
        statement = (
            Statement.objects.select_for_update(of=("self",))
            .select_related("beneficiary", "firm")
            .filter(pk=statement_id)
            .first()
        )
        if statement is None:
            raise Statement.DoesNotExist
        if statement.status != Statement.Status.REJECTED:
            raise ValidationError(_("Only a rejected statement can be prepared again."), code="not_rejected")
        reason = statement.rejection_reason
        statement.status = Statement.Status.PREPARED
        statement.prepared_by = actor
        statement.prepared_at = timezone.now()
        statement.rejected_at = statement.rejected_by = None
        statement.rejection_reason = ""
        statement.save(
            update_fields=[
                "status",
                "prepared_by",
                "prepared_at",
                "rejected_at",
                "rejected_by",
                "rejection_reason",
                "updated_at",
            ]
        )
        audit_record(
            action="commissions.statement_resubmitted",
            actor=actor,
            obj=statement,
            changes={"status": ["rejected", "prepared"], "rejection_reason": reason},
        )
        _approval_ask(statement, maker=actor)
    return statement


def statement_decided(sender, approval, outcome, actor, decision, **kwargs) -> None:
    """`approval_decided` receiver: the statement follows its approval, in the engine's transaction.

    A withdrawn or expired approval leaves the statement prepared (approving it asks again).
    """
    if approval.kind != STATEMENT_KIND or outcome not in (Approval.State.APPROVED, Approval.State.REJECTED):
        return
    prepared = Statement.objects.filter(pk=approval.object_id, status=Statement.Status.PREPARED).exclude(
        prepared_by=actor
    )
    if outcome == Approval.State.APPROVED:
        won = prepared.update(
            status=Statement.Status.APPROVED, approved_by=actor, approved_at=decision.at, updated_at=decision.at
        )
    else:
        won = prepared.update(
            status=Statement.Status.REJECTED,
            rejected_by=actor,
            rejected_at=decision.at,
            rejection_reason=decision.reason,
            updated_at=decision.at,
        )
    if not won:
        # Raised inside the engine's transaction: the decision is undone with it.
        raise ValidationError(_("Only a prepared statement can be decided."), code="not_prepared")
    statement = Statement.objects.get(pk=approval.object_id)
    audit_record(
        action="commissions.statement_approved"
        if outcome == Approval.State.APPROVED
        else "commissions.statement_rejected",
        actor=actor,
        obj=statement,
        changes={"status": ["prepared", statement.status], "total": str(statement.total), "reason": decision.reason},
    )


def statement_describe(statement) -> tuple[str, str, str]:
    """What the approvals list and the work inbox show of a statement: month and person, firm, page."""
    from django.urls import reverse

    person = statement.beneficiary.get_full_name() or statement.beneficiary.email
    return (
        f"{statement.period:%Y-%m} · {person}",
        statement.firm.name if statement.firm_id else person,
        reverse("commissions:statement-detail", args=[statement.pk]),
    )


def _approval_ask(statement: Statement, *, maker) -> Approval:
    return approval_request(
        kind=STATEMENT_KIND, obj=statement, maker=maker, amount=statement.total, currency=statement.currency
    )


def _statement_to_decide(actor, statement_id, second_factor_verified: bool) -> Statement:
    """The checks said in the statement's own words before the engine checks them again on its lock."""
    _check_operator(actor, second_factor_verified)
    statement = Statement.objects.filter(pk=statement_id).first()
    if statement is None:
        raise Statement.DoesNotExist
    if statement.prepared_by_id == actor.pk:
        raise ValidationError(_("You prepared this statement; someone else must approve it."), code="four_eyes")
    if statement.status != Statement.Status.PREPARED:
        raise ValidationError(_("Only a prepared statement can be approved or rejected."), code="not_prepared")
    return statement


def _pending_approval_id(statement: Statement) -> int:
    """The statement's pending approval; one is asked for if it has none (its approval was withdrawn or
    expired, or the statement was prepared before statements went through the engine)."""
    pending = approval_pending_for(kind=STATEMENT_KIND, obj=statement)
    if pending is not None:
        return pending.pk
    with transaction.atomic(durable=True):
        locked = (
            Statement.objects.select_for_update(of=("self",))
            .select_related("beneficiary", "firm", "prepared_by")
            .get(pk=statement.pk)
        )
        if locked.status != Statement.Status.PREPARED:
            raise ValidationError(_("Only a prepared statement can be approved or rejected."), code="not_prepared")
        pending = approval_pending_for(kind=STATEMENT_KIND, obj=locked) or _approval_ask(
            locked, maker=locked.prepared_by
        )
    return pending.pk


def statement_mark_paid(*, actor, statement_id: int, second_factor_verified: bool, reference: str = "") -> Statement:
    _check_operator(actor, second_factor_verified)
    reference = " ".join(str(reference).split())[:100]
    with transaction.atomic(durable=True):
        now = timezone.now()
        statement = Statement.objects.filter(pk=statement_id).first()
        if statement is None:
            raise Statement.DoesNotExist
        reference = reference or f"PZ-{statement.period:%Y%m}-{statement.pk}"
        won = Statement.objects.filter(pk=statement_id, status=Statement.Status.APPROVED).update(
            status=Statement.Status.PAID, paid_by=actor, paid_at=now, payment_reference=reference, updated_at=now
        )
        if not won:
            raise ValidationError(_("Only an approved statement can be marked paid."), code="not_approved")
        statement.refresh_from_db()
        audit_record(
            action="commissions.statement_paid",
            actor=actor,
            obj=statement,
            changes={"status": ["approved", "paid"], "reference": reference, "total": str(statement.total)},
        )
    return statement


def _check_operator(actor, second_factor_verified: bool) -> None:
    if not can_operate_payouts(actor):
        raise PermissionDenied(_("Only back-office staff approve and pay commission statements."))
    if not second_factor_verified:
        raise PermissionDenied(_("Confirm with your second factor first."))
