from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvidenceConfig(AppConfig):
    """Evidence packs: one ZIP per case with a PDF summary, audit events, approvals, thread, documents."""

    name = "portal.evidence"
    label = "evidence"
    verbose_name = _("Evidence packs")
