from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvidenceConfig(AppConfig):
    """Evidence packs: one ZIP per case with a PDF summary, audit events, approvals, thread, documents."""

    name = "portal.evidence"
    label = "evidence"
    verbose_name = _("Evidence packs")

    def ready(self):
        from portal.audit.actions import register_actions

        from . import permissions  # noqa: F401  (registers the pack policy)
        from .registry import register_evidence_section
        from .sections import AUDIT_SECTION, audit_section_build

        # First in every pack: what the audit trail recorded for the case.
        register_evidence_section(AUDIT_SECTION, audit_section_build, order=10)
        register_actions(
            {
                "evidence.pack_requested": _("Evidence pack requested"),
                "evidence.pack_built": _("Evidence pack built"),
                "evidence.pack_failed": _("Evidence pack failed"),
                "evidence.pack_downloaded": _("Evidence pack downloaded"),
            }
        )
