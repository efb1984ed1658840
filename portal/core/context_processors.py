from django.conf import settings

from . import navigation


def portal(request):
    user = getattr(request, "user", None)
    # The dev outbox answers only with DEBUG on, whatever PORTAL_DEV_OUTBOX says.
    dev_outbox_enabled = settings.DEBUG and settings.PORTAL_DEV_OUTBOX
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "dev_outbox_enabled": dev_outbox_enabled}
    from portal.notifications.selectors import notification_unread_count

    return {
        "nav_items": navigation.items_for(user),
        "notification_unread_count": notification_unread_count(user=user),
        "dev_outbox_enabled": dev_outbox_enabled,
    }
