from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "portal.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        from .registry import EMAIL, IN_APP, register_event

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


def check_dev_outbox(app_configs=None, **kwargs):
    from django.conf import settings

    if settings.PORTAL_DEV_OUTBOX and not settings.DEBUG:
        return [
            checks.Warning(
                "PORTAL_DEV_OUTBOX is on with DEBUG off: every e-mail and SMS is readable at /notifications/dev-outbox/.",
                hint="Unset PORTAL_DEV_OUTBOX in production.",
                id="notifications.W001",
            )
        ]
    return []
