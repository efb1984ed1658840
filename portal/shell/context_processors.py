from django.conf import settings


def portal(request):
    """The page shell's account parts: only for a user who is fully signed in (second factor included)."""
    from portal.accounts.two_factor import second_factor_pending

    user = getattr(request, "user", None)
    # The dev outbox answers only with DEBUG on, whatever PORTAL_DEV_OUTBOX says.
    dev_outbox_enabled = settings.DEBUG and settings.PORTAL_DEV_OUTBOX
    if user is None or not user.is_authenticated or second_factor_pending(user):
        return {"signed_in": False, "dev_outbox_enabled": dev_outbox_enabled}
    from portal.inbox.permissions import sees_inbox
    from portal.inbox.selectors import inbox_count
    from portal.notifications.selectors import notification_unread_count

    return {
        "signed_in": True,
        "notification_unread_count": notification_unread_count(user=user),
        # Staff only: what waits in the work inbox (cached until an item changes).
        "inbox_count": inbox_count(actor=user) if sees_inbox(user) else 0,
        "dev_outbox_enabled": dev_outbox_enabled,
    }
