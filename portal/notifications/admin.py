from django.contrib import admin, messages
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import reconcile, services
from .models import Notification, NotificationPreference, OutboxAttachment, OutboxMessage


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "event", "title_shown", "read_at"]
    list_filter = ["event", ("read_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__email", "title", "event"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "user",
        "event",
        "title_shown",
        "params",
        "title",
        "body",
        "link_url",
        "created_at",
        "idempotency_key",
    ]

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("title (in your language)"))
    def title_shown(self, obj):
        return obj.title_display


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "event", "in_app", "email", "sms", "updated_at"]
    list_filter = ["event", "in_app", "email", "sms"]
    search_fields = ["user__email", "event"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]


class OutboxAttachmentInline(admin.TabularInline):
    """What went with the mail: the renderer and its parameters, never editable (evidence, like the text)."""

    model = OutboxAttachment
    fields = ["filename", "content_type", "renderer", "params", "size"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Messages are evidence of what was sent: nobody edits them; staff may requeue or ask the provider.

    The sealed secret is never shown, not even encrypted: only whether it is held or when it went.
    """

    list_display = [
        "created_at",
        "channel",
        "recipient",
        "event",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "provider_answer",
    ]
    list_filter = ["status", "channel", "event"]
    search_fields = ["recipient", "subject", "provider_message_id", "idempotency_key"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    exclude = ["secret", "body"]
    readonly_fields = [
        f.name for f in OutboxMessage._meta.fields if f.name not in ("secret", "body", "secret_wiped_at")
    ] + ["text", "secret_state"]
    actions = ["requeue", "ask_provider"]
    inlines = [OutboxAttachmentInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("text"))
    def text(self, obj):
        return obj.body_display

    @admin.display(description=_("secret part"))
    def secret_state(self, obj):
        if obj.secret:
            return _("held, encrypted, until it is handed over")
        if obj.secret_wiped_at is not None:
            return _("destroyed at %(when)s") % {
                "when": date_format(localtime(obj.secret_wiped_at), "SHORT_DATETIME_FORMAT")
            }
        return _("none")

    @admin.display(description=_("provider's answer"), ordering="provider_checked_at")
    def provider_answer(self, obj):
        if obj.provider_checked_at is None:
            return ""
        return format_html(
            "{}<br><small>{}</small>",
            date_format(localtime(obj.provider_checked_at), "SHORT_DATETIME_FORMAT"),
            obj.provider_check,
        )

    @admin.action(description=_("Requeue unknown/failed messages"), permissions=["change"])
    def requeue(self, request, queryset):
        count = services.outbox_messages_requeue(actor=request.user, message_ids=queryset.values_list("pk", flat=True))
        skipped = queryset.count() - count
        self.message_user(
            request,
            ngettext("%(count)d message requeued.", "%(count)d messages requeued.", count) % {"count": count},
            messages.SUCCESS,
        )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d message was skipped: only unknown or failed messages whose secret part is still held can be requeued.",
                    "%(count)d messages were skipped: only unknown or failed messages whose secret part is still held can be requeued.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )

    @admin.action(description=_("Ask the provider (SMS of unknown outcome)"), permissions=["change"])
    def ask_provider(self, request, queryset):
        result = reconcile.outbox_reconcile(actor=request.user, message_ids=list(queryset.values_list("pk", flat=True)))
        settled = [
            (
                result.sent,
                messages.SUCCESS,
                ngettext(
                    "%(count)d SMS was handed over: now sent.", "%(count)d SMS were handed over: now sent.", result.sent
                ),
            ),
            (
                result.pending,
                messages.SUCCESS,
                ngettext(
                    "%(count)d SMS never reached the provider: it is sent again.",
                    "%(count)d SMS never reached the provider: they are sent again.",
                    result.pending,
                ),
            ),
            (
                result.failed,
                messages.WARNING,
                ngettext(
                    "%(count)d SMS never reached the provider and is no longer worth sending: now failed.",
                    "%(count)d SMS never reached the provider and are no longer worth sending: now failed.",
                    result.failed,
                ),
            ),
            (
                result.unknown,
                messages.INFO,
                ngettext(
                    "%(count)d SMS is not settled yet; the provider is asked again later.",
                    "%(count)d SMS are not settled yet; the provider is asked again later.",
                    result.unknown,
                ),
            ),
            (
                result.skipped,
                messages.WARNING,
                ngettext(
                    "%(count)d message was skipped: only SMS whose outcome is unknown can be checked with the provider.",
                    "%(count)d messages were skipped: only SMS whose outcome is unknown can be checked with the provider.",
                    result.skipped,
                ),
            ),
        ]
        for count, level, text in settled:
            if count:
                self.message_user(request, text % {"count": count}, level)
        if result.error is not None:
            self.message_user(
                request,
                ngettext(
                    "The provider could not be asked (%(error)s); %(count)d SMS stays unknown.",
                    "The provider could not be asked (%(error)s); %(count)d SMS stay unknown.",
                    result.not_asked,
                )
                % {"count": result.not_asked, "error": result.error},
                messages.ERROR,
            )
