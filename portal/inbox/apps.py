from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InboxConfig(AppConfig):
    """The back-office work inbox: every app's open items on one page (/backoffice/)."""

    name = "portal.inbox"
    label = "inbox"
    verbose_name = _("Work inbox")

    def ready(self):
        from portal.audit.actions import register_actions
        from portal.core.cache import register_read_ahead

        from . import permissions  # noqa: F401  (registers the inbox's policy)
        from .counts import count_key, version_key

        # The header's count on every staff page: read with the session in the request's first round trip.
        register_read_ahead(version_key)
        register_read_ahead(count_key)
        register_actions(
            {
                "inbox.item_claimed": _("Work item claimed"),
                "inbox.item_assigned": _("Work item assigned"),
                "inbox.item_released": _("Work item released"),
            }
        )
