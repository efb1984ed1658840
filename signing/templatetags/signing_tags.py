"""Presentation helpers for signature requests: status colours and history labels."""

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

STATUS_CLASSES = {
    "draft": "text-bg-secondary",
    "sent": "text-bg-primary",
    "viewed": "text-bg-info",
    "signed": "text-bg-success",
    "declined": "text-bg-danger",
    "expired": "text-bg-warning",
    "cancelled": "text-bg-dark",
    "processed": "text-bg-success",
    "returned": "text-bg-warning",
}

HISTORY_LABELS = {
    "signing.request_created": _("Draft created"),
    "signing.request_changed": _("Content changed"),
    "signing.attachment_added": _("Attachment added"),
    "signing.attachment_removed": _("Attachment removed"),
    "signing.request_sent": _("Sent to the client"),
    "signing.request_viewed": _("Opened by the client"),
    "signing.code_sent": _("Code sent by SMS"),
    "signing.code_resent": _("Code sent again"),
    "signing.code_wrong": _("Wrong code entered"),
    "signing.challenge_dead": _("Code blocked after wrong tries"),
    "signing.challenge_void": _("Code voided"),
    "signing.challenge_expired": _("Code expired"),
    "signing.client_locked": _("Signing locked for the client"),
    "signing.integrity_failed": _("Documents failed verification"),
    "signing.request_signed": _("Signed"),
    "signing.pdf_rendered": _("Signed PDF created"),
    "signing.signed_pdf_downloaded": _("Signed PDF downloaded by the client"),
    "signing.request_declined": _("Declined"),
    "signing.request_cancelled": _("Cancelled"),
    "signing.request_expired": _("Expired"),
    "signing.request_processed": _("Processed by the back office"),
    "signing.request_returned": _("Returned by the back office"),
}


@register.filter
def status_class(status: str) -> str:
    return STATUS_CLASSES.get(status, "text-bg-light")


@register.filter
def history_label(action: str) -> str:
    return HISTORY_LABELS.get(action, action)


@register.filter
def history_actor(event) -> str:
    if event.actor is not None:
        return str(event.actor)
    return str(_("Partnerzone")) if event.actor_label in ("", "system") else event.actor_label
