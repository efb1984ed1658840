"""The evidence pack of a commission statement: registered with the kernel's evidence registry in ready().

Back office and compliance build it (those who see every statement, per the policy). The summary says
whose statement it is, for which month, for how much, and who prepared, approved and paid it when;
the document is the statement PDF as it was rendered when the month closed.
"""

from django.utils.translation import gettext_lazy as _

from portal.core.templatetags.portal_format import money
from portal.evidence.registry import EvidenceFile, register_evidence_kind

from .models import Statement
from .permissions import sees_everything


def _person(user) -> str:
    if user is None:
        return ""
    name = user.get_full_name()
    return f"{name} <{user.email}>" if name else user.email


def can_build(actor, statement: Statement) -> bool:
    return bool(actor.is_authenticated and actor.is_active and sees_everything(actor))


def summary(statement: Statement) -> list[tuple]:
    return [
        (_("Statement number"), f"PZ-{statement.period:%Y%m}-{statement.pk}"),
        (_("Broker"), _person(statement.beneficiary)),
        (_("Firm"), str(statement.firm) if statement.firm_id else ""),
        (_("Month"), f"{statement.period:%Y-%m}"),
        (_("Payout status"), statement.get_status_display()),
        (_("Total"), money(statement.total, statement.currency)),
        (_("Upfront"), money(statement.upfront, statement.currency)),
        (_("Trailing"), money(statement.trailing, statement.currency)),
        (_("Fixed"), money(statement.fixed, statement.currency)),
        (_("Override"), money(statement.override, statement.currency)),
        (_("Entries"), statement.accrual_count),
        (_("Prepared"), statement.prepared_at),
        (_("Prepared by"), _person(statement.prepared_by)),
        (_("Approved"), statement.approved_at),
        (_("Approved by"), _person(statement.approved_by)),
        (_("Paid"), statement.paid_at),
        (_("Marked paid by"), _person(statement.paid_by)),
        (_("Payment reference"), statement.payment_reference),
        (_("Statement PDF SHA-256"), statement.pdf_sha256),
    ]


def documents(statement: Statement) -> list[EvidenceFile]:
    if not statement.pdf:
        return []
    with statement.pdf.open("rb") as handle:
        content = handle.read()
    return [EvidenceFile(f"commission-statement-{statement.period:%Y-%m}.pdf", content, str(_("Statement PDF")))]


def register() -> None:
    register_evidence_kind(
        Statement, label=_("Commission statement"), can_build=can_build, summary=summary, documents=documents
    )
