"""The evidence pack's "approvals" section: every approval of the case, each decision with its reason."""

from django.utils import timezone
from django.utils.translation import gettext as _

from portal.evidence.registry import EvidenceSection

from .columns import person
from .selectors import approvals_of


def _when(moment) -> str:
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else ""


def approvals_section(obj) -> EvidenceSection | None:
    approvals = approvals_of(obj)
    if not approvals:
        return None
    rows = []
    for approval in approvals:
        case = [
            approval.kind_label,
            _when(approval.requested_at),
            person(approval.maker),
            f"{approval.amount} {approval.currency}".strip() if approval.amount is not None else "",
            approval.get_state_display(),
        ]
        decisions = list(approval.decisions.all())
        if not decisions:
            rows.append([*case, "", "", "", "", ""])
        for decision in decisions:
            rows.append(
                [
                    *case,
                    decision.get_outcome_display(),
                    person(decision.actor) or _("the system"),
                    _when(decision.at),
                    decision.ip or "",
                    decision.reason,
                ]
            )
    return EvidenceSection(
        key="approvals",
        title=_("Approvals"),
        columns=[
            _("Kind"),
            _("Requested"),
            _("Maker"),
            _("Amount"),
            _("State"),
            _("Decision"),
            _("By"),
            _("At"),
            _("IP address"),
            _("Reason"),
        ],
        rows=rows,
        note=_("Every approval asked for this case, one row per decision, with the reason given."),
    )
