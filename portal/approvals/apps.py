from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApprovalsConfig(AppConfig):
    """Four-eyes approvals attached to any object, with a policy per kind registered by its app."""

    name = "portal.approvals"
    label = "approvals"
    verbose_name = _("Approvals")
