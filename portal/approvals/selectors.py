"""Reads of approvals, always through the policy in `permissions.py`."""

from django.contrib.contenttypes.models import ContentType
from django.db.models import Prefetch, QuerySet
from django.http import Http404

from .models import Approval, ApprovalDecision
from .registry import approval_kind


def _decisions_prefetch() -> Prefetch:
    return Prefetch("decisions", queryset=ApprovalDecision.objects.select_related("actor").order_by("at", "pk"))


def approval_list(*, actor, action: str = "view") -> QuerySet[Approval]:
    """The approvals the actor may see (or decide), newest first, with their people loaded:
    a page of them costs the same few queries whatever its length."""
    return (
        Approval.objects.restrict(actor, action)
        .select_related("maker")
        .prefetch_related(_decisions_prefetch())
        .order_by("-requested_at", "-pk")
    )


def approvals_to_decide(*, actor) -> QuerySet[Approval]:
    """Pending approvals the actor may decide and has not decided yet (never their own)."""
    return (
        approval_list(actor=actor, action="decide")
        .filter(state=Approval.State.PENDING)
        .exclude(decisions__actor=actor)
        .order_by("due_at", "requested_at", "pk")
    )


def access_approval(*, actor, approval_id, action: str = "view") -> Approval:
    """The approval, if the actor may reach it for `action`; otherwise it does not exist (404)."""
    try:
        return approval_list(actor=actor, action=action).get(pk=approval_id)
    except (Approval.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def approvals_of(obj) -> list[Approval]:
    """Every approval ever asked for `obj`, oldest first, with decisions (unscoped: the caller, such as
    the evidence pack or the owning app's page, has checked access to `obj`)."""
    content_type = ContentType.objects.get_for_model(obj)
    return list(
        Approval.objects.filter(content_type=content_type, object_id=obj.pk)
        .select_related("maker")
        .prefetch_related(_decisions_prefetch())
        .order_by("requested_at", "pk")
    )


def approval_pending_for(*, kind: str, obj) -> Approval | None:
    """The pending approval of this kind for `obj`, if any (unscoped, for the owning app)."""
    return Approval.objects.filter(
        kind=kind,
        content_type=ContentType.objects.get_for_model(obj),
        object_id=obj.pk,
        state=Approval.State.PENDING,
    ).first()


def decision_refusal(*, actor, approval: Approval) -> str:
    """Why the actor cannot decide this approval now ("" when they can): the pages hide the buttons
    then. The service checks all of it again on the locked row; this only spares a useless click."""
    from django.utils.translation import gettext as _

    if not approval.is_pending:
        return _("This approval is no longer pending.")
    try:
        policy = approval_kind(approval.kind)
    except LookupError:
        return _("Nobody decides approvals of this kind any more.")
    if approval.maker_id == actor.pk:
        return _("You asked for this approval; someone else must decide it.")
    if not policy.may_decide(actor):
        return _("You may not decide approvals of this kind.")
    if any(d.actor_id == actor.pk for d in approval.decisions.all()):
        return _("You have already decided on this approval.")
    return ""
