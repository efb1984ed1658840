from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InboxConfig(AppConfig):
    """The back-office work inbox: every app's open items on one page (/backoffice/)."""

    name = "portal.inbox"
    label = "inbox"
    verbose_name = _("Work inbox")
