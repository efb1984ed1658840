"""Human labels for the audit trail's action codes, registered by the apps that write them.

The trail stores a stable code (`commissions.statement_approved`); people read a label in their
language ("Commission statement approved"). Each app registers the labels of its codes in its
AppConfig.ready(), as it does its menu entries, so the kernel knows no app's vocabulary:

    register_actions({"commissions.statement_approved": _("Commission statement approved")})

A code nobody labelled still reads as words ("Client: shared") rather than a code.
"""

from django.apps import apps
from django.utils.translation import gettext_lazy as _

_labels: dict = {}


def register_actions(labels: dict) -> None:
    """Add labels (lazy translations) for action codes; registering a code again replaces its label."""
    _labels.update(labels)


def action_label(code: str) -> str:
    if code in _labels:
        return _labels[code]
    area, _dot, what = code.partition(".")
    if not what:
        return code.replace("_", " ").capitalize()
    return f"{area.replace('_', ' ').capitalize()}: {what.replace('_', ' ')}"


def object_type_label(object_type: str) -> str:
    """An audited object's type (`app_label.model`) as its model's name in the reader's language."""
    if not object_type:
        return ""
    try:
        model = apps.get_model(object_type)
    except (LookupError, ValueError):
        return object_type
    return str(model._meta.verbose_name).capitalize()


# The kernel's own codes: logins, second factor, roles, API keys, the outbox.
register_actions(
    {
        "auth.login": _("Signed in"),
        "auth.login_failed": _("Sign-in failed"),
        "auth.login_locked": _("Sign-in refused: too many failed attempts"),
        "auth.logout": _("Logged out"),
        "auth.password_changed": _("Password changed"),
        "auth.roles_changed": _("Roles changed"),
        "auth.2fa_setup_started": _("Authenticator app set-up started"),
        "auth.2fa_enrolled": _("Two-factor authentication switched on"),
        "auth.2fa_disabled": _("Two-factor authentication switched off"),
        "auth.2fa_verified": _("Second factor verified"),
        "auth.2fa_failed": _("Wrong second-factor code"),
        "auth.recovery_code_used": _("Recovery code used"),
        "auth.recovery_codes_regenerated": _("New recovery codes made"),
        "auth.sessions_ended": _("Signed out everywhere else"),
        "auth.phone_changed": _("Mobile number changed"),
        "auth.phone_code_sent": _("Mobile verification code sent"),
        "auth.phone_code_resent": _("Mobile verification code sent again"),
        "auth.phone_code_wrong": _("Wrong mobile verification code"),
        "auth.phone_code_verified": _("Mobile number verified"),
        "auth.phone_code_expired": _("Mobile verification code expired"),
        "auth.phone_code_dead": _("Mobile verification blocked after wrong codes"),
        "auth.phone_code_void": _("Mobile verification code voided"),
        "auth.phone_verified": _("Mobile number verified"),
        "api_key.created": _("API key created"),
        "api_key.rotated": _("API key rotated"),
        "api_key.revoked": _("API key revoked"),
        "notifications.outbox_requeued": _("Outbox message sent again"),
        "notifications.outbox_reconciled": _("Outbox message checked with the provider"),
    }
)
