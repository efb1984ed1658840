from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import services
from .models import Notification, NotificationPreference, OutboxMessage


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "event", "title", "read_at"]
    list_filter = ["event", ("read_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__email", "title", "event"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    date_hierarchy = "created_at"
    readonly_fields = ["user", "event", "title", "body", "link_url", "created_at", "idempotency_key"]

    def has_add_permission(self, request):
        return False


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "event", "in_app", "email", "sms", "updated_at"]
    list_filter = ["event", "in_app", "email", "sms"]
    search_fields = ["user__email", "event"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Messages are evidence of what was sent: nobody edits them; staff may only requeue."""

    list_display = ["created_at", "channel", "recipient", "event", "status", "attempts", "next_attempt_at", "sent_at"]
    list_filter = ["status", "channel", "event"]
    search_fields = ["recipient", "subject", "provider_message_id", "idempotency_key"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]
    actions = ["requeue"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

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
                    "%(count)d message was skipped: only unknown or failed messages can be requeued.",
                    "%(count)d messages were skipped: only unknown or failed messages can be requeued.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )
