"""The back office's view in Django admin: signed requests with attachments and evidence, read-only.

Nothing is edited here: the only changes are the two actions, which call the same service as
the back-office page (audited, notified). Who gets in follows `signing.permissions`: back-office
staff (with a verified second factor, like all of admin).
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from portal.core.admin import RestrictedAdmin

from . import permissions, services
from .models import SignatureAttachment, SignatureEvidence, SignatureRequest, SigningChallenge


class BackOfficeOnly:
    """Read-only for back-office staff; nobody adds, changes or deletes through admin."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff and permissions.can_handle(request.user)

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AttachmentInline(BackOfficeOnly, admin.TabularInline):
    model = SignatureAttachment
    fields = ["link", "content_type", "size", "sha256", "created_at"]
    readonly_fields = fields
    extra = 0

    @admin.display(description=_("file"))
    def link(self, attachment):
        url = reverse("signing:attachment", args=[attachment.request_id, attachment.pk])
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, attachment.name)


class EvidenceInline(BackOfficeOnly, admin.StackedInline):
    model = SignatureEvidence
    fields = [
        "signer_name",
        "signer_email",
        "signed_at",
        "ip",
        "user_agent",
        "masked_phone",
        "challenge",
        "sms_message_id",
        "content_hash",
        "pdf_link",
        "pdf_sha256",
    ]
    readonly_fields = fields
    extra = 0

    @admin.display(description=_("signed PDF"))
    def pdf_link(self, evidence):
        if not evidence.pdf:
            return "–"
        url = reverse("signing:signed-pdf", args=[evidence.request_id])
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, _("Open"))


class ChallengeInline(BackOfficeOnly, admin.TabularInline):
    model = SigningChallenge
    fields = ["status", "failed_attempts", "sends", "created_at", "code_issued_at", "ended_at"]
    readonly_fields = fields
    extra = 0


class CommentActionForm(ActionForm):
    comment = forms.CharField(label=_("Comment"), required=False, max_length=5000)


@admin.register(SignatureRequest)
class SignatureRequestAdmin(BackOfficeOnly, RestrictedAdmin):
    # The back office's side of the policy: every request but drafts.
    policy_action = "follow"

    list_display = ["short_reference", "title", "kind", "status", "recipient_label", "sender", "signed_at"]
    list_filter = ["status", "kind"]
    search_fields = ["title", "recipient_label", "sender__email", "recipient__email", "payee_name"]
    date_hierarchy = "signed_at"
    list_select_related = ["sender"]
    inlines = [AttachmentInline, EvidenceInline, ChallengeInline]
    action_form = CommentActionForm
    actions = ["mark_processed", "mark_returned"]
    exclude = ["recipient", "sender", "handled_by", "organisation"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in SignatureRequest._meta.fields if f.name not in self.exclude]

    def has_change_permission(self, request, obj=None):
        # Needed for the actions on the list; every field stays read-only.
        return obj is None and self.has_module_permission(request)

    @admin.action(description=_("Mark processed"))
    def mark_processed(self, request, queryset):
        self._handle(request, queryset, "processed")

    @admin.action(description=_("Return to the broker (comment required)"))
    def mark_returned(self, request, queryset):
        self._handle(request, queryset, "returned")

    def _handle(self, request, queryset, outcome):
        comment = request.POST.get("comment", "")
        done = 0
        for signature_request in queryset:
            try:
                services.signature_request_handle(
                    actor=request.user, request_id=signature_request.pk, outcome=outcome, comment=comment
                )
            except ValidationError as exc:
                self.message_user(request, f"{signature_request}: {' '.join(exc.messages)}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, _("%(count)d requests updated.") % {"count": done}, messages.SUCCESS)
