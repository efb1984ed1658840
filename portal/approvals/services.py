"""Writes of the approval engine: request, approve, reject, withdraw, expire.

Every rule lives here, so it holds through pages, API, admin and admin actions alike: the maker
never decides their own case, nobody decides twice, only the kind's roles decide, with a second
factor when the kind's policy says so. A decision locks the approval's row first
(`select_for_update`), so of parallel decisions exactly one changes the state and the others see
the new state and are refused.

Each decision writes an ApprovalDecision (who, when, from which IP, why), an audit event and, on a
final outcome, sends `events.approval_decided` inside the same transaction, so the app applies its
effect (a statement becomes approved) atomically with the decision.
"""

from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.audit import context as audit_context
from portal.audit.services import audit_record
from portal.notifications.services import notify

from .events import approval_decided, approval_requested
from .inbox import PARTLY_APPROVED_STATE, approval_inbox_close, approval_inbox_open
from .models import Approval, ApprovalDecision
from .registry import ApprovalPolicy, approval_kind

REASON_MAX_LENGTH = 2000
NOTE_MAX_LENGTH = 2000
EXPIRE_BATCH = 500


def approval_request(*, kind: str, obj, maker=None, amount=None, currency: str = "", note: str = "") -> Approval:
    """Ask for an approval of `obj`. Not durable: the app calls it inside its own transaction, so the
    case and its approval are written together. `maker` defaults to the policy's `maker_of(obj)`."""
    policy = approval_kind(kind)
    if not isinstance(obj, policy.model) or obj.pk is None:
        raise ValueError(f"{kind} approves saved {policy.model.__name__} objects, got {obj!r}.")
    maker = maker or policy.maker_of(obj)
    if maker is None:
        raise ValidationError(_("An approval needs the person who made the case."), code="no_maker")
    amount = _amount(amount)
    currency = str(currency or "").strip().upper()[:3]
    content_type = ContentType.objects.get_for_model(obj)
    with transaction.atomic():
        pending = Approval.objects.filter(
            kind=kind, content_type=content_type, object_id=obj.pk, state=Approval.State.PENDING
        )
        if pending.exists():
            raise ValidationError(_("An approval of this case is already pending."), code="pending_exists")
        subject, party, url = policy.describe(obj)
        now = timezone.now()
        approval = Approval.objects.create(
            kind=kind,
            content_type=content_type,
            object_id=obj.pk,
            maker=maker,
            amount=amount,
            currency=currency,
            approvals_required=policy.required_for(amount),
            note=" ".join(str(note).split())[:NOTE_MAX_LENGTH],
            requested_at=now,
            due_at=now + policy.due_after if policy.due_after else None,
            subject=str(subject)[:200],
            party=str(party or "")[:200],
            url=str(url or "")[:300],
        )
        audit_record(
            action="approvals.requested",
            actor=maker,
            obj=approval,
            changes={
                "kind": kind,
                "object": f"{content_type.app_label}.{content_type.model}:{obj.pk}",
                "approvals_required": approval.approvals_required,
                "amount": str(amount) if amount is not None else None,
                "currency": currency,
            },
        )
        approval_inbox_open(approval)
        _alert_requested(approval, policy)
        approval_requested.send(sender=Approval, approval=approval)
    return approval


def approval_approve(*, actor, approval_id, second_factor_verified: bool, reason: str = "") -> Approval:
    """One approval; the case is approved once the kind's number of distinct people agreed."""
    reason = _clean_reason(reason)
    with transaction.atomic(durable=True):
        approval = _lock_for_decision(actor, approval_id, second_factor_verified)
        decision = _decision(approval, actor, ApprovalDecision.Outcome.APPROVE, reason)
        given = approval.decisions.filter(outcome=ApprovalDecision.Outcome.APPROVE).count()
        if given < approval.approvals_required:
            audit_record(
                action="approvals.approval_recorded",
                actor=actor,
                obj=approval,
                changes={"kind": approval.kind, "approvals": [given, approval.approvals_required], "reason": reason},
            )
            approval_inbox_open(approval, state=PARTLY_APPROVED_STATE)
            return approval
        _finish(approval, Approval.State.APPROVED, decision, actor)
    return approval


def approval_reject(*, actor, approval_id, reason: str, second_factor_verified: bool) -> Approval:
    """One rejection ends the case; the reason is required and kept."""
    reason = _clean_reason(reason)
    if not reason:
        raise ValidationError({"reason": [_("Say why you reject it.")]}, code="reason_required")
    with transaction.atomic(durable=True):
        approval = _lock_for_decision(actor, approval_id, second_factor_verified)
        decision = _decision(approval, actor, ApprovalDecision.Outcome.REJECT, reason)
        approval.rejection_reason = reason
        _finish(approval, Approval.State.REJECTED, decision, actor)
    return approval


def approval_withdraw(*, actor, approval_id) -> Approval:
    """The maker takes a pending case back."""
    with transaction.atomic(durable=True):
        approval = Approval.objects.select_for_update().filter(pk=approval_id).first()
        if approval is None:
            raise Approval.DoesNotExist
        if actor is None or approval.maker_id != actor.pk:
            raise PermissionDenied(_("Only the person who asked for the approval can withdraw it."))
        _check_pending(approval)
        decision = _decision(approval, actor, ApprovalDecision.Outcome.WITHDRAW, "")
        _finish(approval, Approval.State.WITHDRAWN, decision, actor, tell_maker=False)
    return approval


def approvals_expire(*, now=None) -> int:
    """Beat task: pending approvals past their due time expire. Idempotent; returns how many expired."""
    now = now or timezone.now()
    due = Approval.objects.filter(state=Approval.State.PENDING, due_at__lte=now).order_by("due_at", "pk")
    expired = 0
    for approval_id in list(due.values_list("pk", flat=True)[:EXPIRE_BATCH]):
        with transaction.atomic(durable=True):
            # Another worker (or a decision) holding the row has it in hand: leave it to them.
            approval = (
                Approval.objects.select_for_update(skip_locked=True)
                .filter(pk=approval_id, state=Approval.State.PENDING, due_at__lte=now)
                .first()
            )
            if approval is None:
                continue
            decision = _decision(approval, None, ApprovalDecision.Outcome.EXPIRE, "")
            _finish(approval, Approval.State.EXPIRED, decision, None)
        expired += 1
    return expired


# --- the rules -------------------------------------------------------------------------------


def _lock_for_decision(actor, approval_id, second_factor_verified: bool) -> Approval:
    approval = Approval.objects.select_for_update().filter(pk=approval_id).first()
    if approval is None:
        raise Approval.DoesNotExist
    try:
        policy = approval_kind(approval.kind)
    except LookupError:
        raise PermissionDenied(_("Nobody decides approvals of this kind any more.")) from None
    if not policy.may_decide(actor):
        raise PermissionDenied(_("You may not decide approvals of this kind."))
    if policy.second_factor and not second_factor_verified:
        raise PermissionDenied(_("Confirm with your second factor first."))
    if approval.maker_id == actor.pk:
        raise ValidationError(_("You asked for this approval; someone else must decide it."), code="four_eyes")
    _check_pending(approval)
    if approval.decisions.filter(actor=actor).exists():
        raise ValidationError(_("You have already decided on this approval."), code="already_decided")
    return approval


def _check_pending(approval: Approval) -> None:
    if approval.state != Approval.State.PENDING:
        raise ValidationError(
            _("This approval is no longer pending: it was %(state)s.") % {"state": approval.get_state_display()},
            code="not_pending",
        )


def _decision(approval: Approval, actor, outcome: str, reason: str) -> ApprovalDecision:
    request = audit_context.current()
    return ApprovalDecision.objects.create(
        approval=approval,
        actor=actor,
        outcome=outcome,
        reason=reason,
        at=timezone.now(),
        ip=request.ip if request else None,
    )


def _finish(approval: Approval, state: str, decision: ApprovalDecision, actor, *, tell_maker: bool = True) -> None:
    before = approval.state
    approval.state = state
    approval.decided_at = decision.at
    approval.save(update_fields=["state", "decided_at", "rejection_reason"])
    approval_inbox_close(approval)
    audit_record(
        action=f"approvals.{state}",
        actor=actor,
        actor_label="" if actor is not None else "system",
        obj=approval,
        changes={"kind": approval.kind, "state": [before, state], "reason": decision.reason},
    )
    if tell_maker:
        notify(
            user=approval.maker,
            event="approvals.decided",
            context={"approval": approval},
            link=_link(approval),
            idempotency_key=f"approval-decided:{approval.pk}",
        )
    approval_decided.send(sender=Approval, approval=approval, outcome=state, actor=actor, decision=decision)


def _alert_requested(approval: Approval, policy: ApprovalPolicy) -> None:
    if policy.alert_users is not None:
        people = [u for u in policy.alert_users(approval) if u.pk != approval.maker_id]
    else:
        people = (
            get_user_model()
            .objects.filter(groups__name__in=policy.alerted_roles, is_active=True)
            .exclude(pk=approval.maker_id)
            .distinct()
            .order_by("pk")
        )
        if policy.staff_only:
            people = people.filter(is_staff=True)
    link = _link(approval)
    for user in people:
        notify(
            user=user,
            event="approvals.requested",
            context={"approval": approval},
            link=link,
            idempotency_key=f"approval-requested:{approval.pk}:{user.pk}",
        )


def _link(approval: Approval) -> str:
    return reverse("approvals:approval-detail", args=[approval.pk])


def _clean_reason(reason) -> str:
    reason = str(reason or "").strip()
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError(
            {"reason": [_("Keep the reason under %(max)d characters.") % {"max": REASON_MAX_LENGTH}]},
            code="too_long",
        )
    return reason


def _amount(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValidationError({"amount": [_("Enter an amount.")]}, code="invalid") from None
    if not amount.is_finite():
        raise ValidationError({"amount": [_("Enter an amount.")]}, code="invalid")
    return amount.quantize(Decimal("0.01"))
