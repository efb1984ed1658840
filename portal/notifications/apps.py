from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "portal.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        from portal.core.cache import register_read_ahead

        from .registry import EMAIL, IN_APP, register_event
        from .selectors import unread_count_key

        # The header's badge on every page: read with the session in the request's first round trip.
        register_read_ahead(unread_count_key)

        register_event(
            "account.welcome",
            _("Welcome to Partnerzone"),
            default_channels={IN_APP, EMAIL},
            description=_("Sent once when your account is ready."),
            configurable=False,
        )
        register_event(
            "security.2fa_enabled",
            _("Two-factor authentication switched on"),
            default_channels={IN_APP, EMAIL},
            required_channels={EMAIL},
        )
        register_event(
            "security.password_changed",
            _("Password changed"),
            default_channels={IN_APP, EMAIL},
            required_channels={EMAIL},
        )
        checks.register(check_dev_outbox, checks.Tags.security, deploy=True)

        from django.db.models.signals import post_delete, post_save

        from .models import Notification
        from .services import forget_unread_count

        post_save.connect(forget_unread_count, sender=Notification, dispatch_uid="notification-unread-count-save")
        post_delete.connect(forget_unread_count, sender=Notification, dispatch_uid="notification-unread-count-delete")


def check_dev_outbox(app_configs=None, **kwargs):
    from django.conf import settings

    if settings.PORTAL_DEV_OUTBOX and not settings.DEBUG:
        return [
            checks.Warning(
                "PORTAL_DEV_OUTBOX is on with DEBUG off: the dev outbox stays closed (404), "
                "but the setting is meant for development only.",
                hint="Unset PORTAL_DEV_OUTBOX in production.",
                id="notifications.W001",
            )
        ]
    return []
