from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from portal.accounts.two_factor import session_verified
from portal.core.admin import ReadOnlyAdmin, RestrictedAdmin

from . import services
from .models import ApiKey, IdempotencyRecord
from .permissions import can_revoke_any_api_key


@admin.register(ApiKey)
class ApiKeyAdmin(RestrictedAdmin, ReadOnlyAdmin):
    """Back office sees every key (never a secret: none is stored) and can revoke a leaked one."""

    list_display = ["prefix", "name", "owner", "created_at", "last_used_at", "expires_at", "revoked_at"]
    list_filter = ["revoked_at", "created_at"]
    list_select_related = ["owner"]
    search_fields = ["prefix", "name", "owner__email"]
    readonly_fields = [f.name for f in ApiKey._meta.fields]
    actions = ["revoke_selected"]

    @admin.action(description=_("Revoke the selected keys"))
    def revoke_selected(self, request, queryset):
        if not can_revoke_any_api_key(request.user):
            self.message_user(request, _("Only back-office staff can revoke other people's keys."), messages.ERROR)
            return
        if not session_verified(request.user):
            self.message_user(request, _("Confirm with your second factor first."), messages.ERROR)
            return
        count = 0
        for key in queryset.filter(revoked_at__isnull=True):
            services.api_key_revoke(actor=request.user, second_factor_verified=True, key_id=key.pk)
            count += 1
        self.message_user(request, ngettext("%d key revoked.", "%d keys revoked.", count) % count, messages.SUCCESS)


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    """Which API POSTs were sent with an Idempotency-Key, and how they were answered.

    The stored answer (body and headers) is not shown: it may hold a client's personal data, and
    back office needs only who, what, when and the outcome to answer a partner's question.
    """

    list_display = ["created_at", "user", "api_key", "method", "path", "state", "status_code", "completed_at"]
    list_filter = ["state", "status_code", "created_at"]
    list_select_related = ["user", "api_key"]
    search_fields = ["key", "path", "user__email", "api_key__prefix"]
    fields = [
        "user",
        "api_key",
        "key",
        "method",
        "path",
        "state",
        "status_code",
        "content_type",
        "fingerprint",
        "created_at",
        "completed_at",
        "expires_at",
    ]
    readonly_fields = fields
