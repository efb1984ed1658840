"""Approvals waiting for a decision are work-inbox items, one per approval, of the approval's kind.

An approval kind is also an inbox kind (same key, the approver roles see it). The item links to the
approval's page, where the decision is taken, and closes with the outcome when the case is decided.
"""

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_noop

from portal.inbox.registry import register_inbox_kind
from portal.inbox.services import work_item_close, work_item_open

from .models import Approval

WAITING_STATE = gettext_noop("Waiting for approval")
PARTLY_APPROVED_STATE = gettext_noop("More approvals needed")
OUTCOME_STATES = {
    Approval.State.APPROVED: gettext_noop("Approved"),
    Approval.State.REJECTED: gettext_noop("Rejected"),
    Approval.State.WITHDRAWN: gettext_noop("Withdrawn"),
    Approval.State.EXPIRED: gettext_noop("Expired"),
}


def approval_inbox_kind_register(policy, *, count_label=None, count_second_factor_for="") -> None:
    register_inbox_kind(
        policy.key,
        label=policy.label,
        roles=policy.approver_roles,
        scope=lambda actor: _not_their_own(actor, policy.key),
        sync=lambda: approvals_inbox_sync(kind=policy.key),
        count_label=count_label,
        count_second_factor_for=count_second_factor_for,
    )


def _not_their_own(actor, kind: str) -> Q:
    """Four eyes: a maker's own cases are not their work (they cannot decide them), so not in their inbox."""
    return ~Q(object_id__in=Approval.objects.filter(kind=kind, maker=actor).values("pk"))


def approval_inbox_open(approval: Approval, *, state: str = WAITING_STATE) -> None:
    """The approval waits in its approvers' inbox (inside the caller's transaction)."""
    work_item_open(
        kind=approval.kind,
        obj=approval,
        subject=approval.subject,
        party=approval.party,
        url=reverse("approvals:approval-detail", args=[approval.pk]),
        state=state,
        opened_at=approval.requested_at,
        due_at=approval.due_at,
    )


def approval_inbox_close(approval: Approval) -> None:
    work_item_close(kind=approval.kind, obj=approval, state=OUTCOME_STATES.get(approval.state))


def approvals_inbox_sync(*, kind: str) -> int:
    """Open the items of every pending approval of `kind` (safe to run twice); returns how many are open."""
    count = 0
    for approval in Approval.objects.filter(kind=kind, state=Approval.State.PENDING).iterator(chunk_size=200):
        approval_inbox_open(approval)
        count += 1
    return count
