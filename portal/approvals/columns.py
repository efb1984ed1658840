"""The columns every approvals list shows, on the page and in its export: the seed's five
(approved by, rejected by, approval date, rejection date, rejection reason) after the case's own."""

from django.utils import timezone
from django.utils.translation import gettext as _


def person(user) -> str:
    return (user.get_full_name() or user.email) if user is not None else ""


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def export_header() -> list[str]:
    return [
        _("Subject"),
        _("Kind"),
        _("Maker"),
        _("State"),
        _("Due"),
        _("Approved by"),
        _("Rejected by"),
        _("Approval date"),
        _("Rejection date"),
        _("Rejection reason"),
    ]


def export_row(approval) -> list[str]:
    return [
        approval.subject,
        approval.kind_label,
        person(approval.maker),
        approval.get_state_display(),
        _when(approval.due_at),
        ", ".join(person(user) for user in approval.approvers),
        person(approval.rejecter),
        _when(approval.approved_at),
        _when(approval.rejected_at),
        approval.rejection_reason,
    ]
