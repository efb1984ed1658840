from django.conf import settings

from . import navigation


def portal(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "dev_outbox_enabled": settings.PORTAL_DEV_OUTBOX}
    from portal.notifications.selectors import notification_unread_count

    return {
        "nav_items": navigation.items_for(user),
        "notification_unread_count": notification_unread_count(user=user),
        "dev_outbox_enabled": settings.PORTAL_DEV_OUTBOX,
    }
