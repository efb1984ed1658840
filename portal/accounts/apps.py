from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "portal.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from . import signals  # connects login, 2FA and role-change auditing

        signals.connect_device_receivers()

        from portal.core.cache import register_read_ahead

        from .backends import signed_in_key

        register_read_ahead(signed_in_key)

        from django.db.models.signals import post_migrate

        from .services import audit_trail_readers_grant

        # After the audit and notifications apps' own post_migrate turn, when their permission rows exist
        # (on a fresh database this app's turn comes first and would find none to grant).
        for label in ("audit", "notifications"):
            post_migrate.connect(
                audit_trail_readers_grant,
                sender=self.apps.get_app_config(label),
                dispatch_uid=f"accounts.audit_trail_readers.{label}",
            )

        from portal.notifications.registry import EMAIL, IN_APP, register_event

        register_event(
            "security.phone_changed",
            _("Mobile number changed"),
            default_channels={IN_APP, EMAIL},
            description=_("The mobile number for your codes was changed."),
            required_channels={EMAIL},
        )
