"""Reads, always scoped to the user who asks (the dev outbox too: staff see all of it, others their own)."""

from django.core.cache import cache
from django.db.models import Q, QuerySet

from portal.core.cache import cached_until_changed

from . import registry
from .models import DevDelivery, Notification, NotificationPreference, OutboxAttachment, OutboxMessage


def notification_list(*, user, unread_only: bool = False) -> QuerySet[Notification]:
    """The user's own notifications, newest first (with the user, whom their texts address)."""
    qs = Notification.objects.filter(user=user).select_related("user").order_by("-created_at", "-id")
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs


# The badge in every page's header: counted again after any change to the user's notifications
# (see `unread_count_changed`), and at the latest after ten minutes.
UNREAD_COUNT_TIMEOUT = 600


def unread_count_key(user_id) -> str:
    return f"notifications:unread:{user_id}"


def notification_unread_count(*, user) -> int:
    return cached_until_changed(
        cache,
        unread_count_key(user.pk),
        lambda: Notification.objects.filter(user=user, read_at__isnull=True).count(),
        timeout=UNREAD_COUNT_TIMEOUT,
    )


def notification_channels(*, user, event: registry.EventType) -> set[str]:
    """The channels this user gets for this event: their preference, else the event's defaults."""
    chosen = set(event.default_channels)
    if event.configurable:
        pref = NotificationPreference.objects.filter(user=user, event=event.key).first()
        if pref is not None:
            chosen = {
                c
                for c, on in ((registry.IN_APP, pref.in_app), (registry.EMAIL, pref.email), (registry.SMS, pref.sms))
                if on
            }
    chosen |= event.required_channels
    chosen &= set(event.channels)
    if not user.email:
        chosen.discard(registry.EMAIL)
    if not user.phone:
        chosen.discard(registry.SMS)
    return chosen


def notification_preference_rows(*, user) -> list[dict]:
    """One row per configurable event type the user can receive: the channels in effect and which can change."""
    stored = {p.event: p for p in NotificationPreference.objects.filter(user=user)}
    rows = []
    for event in registry.event_list(configurable_only=True):
        if not event.concerns(user):
            continue
        pref = stored.get(event.key)
        if pref is not None:
            current = {registry.IN_APP: pref.in_app, registry.EMAIL: pref.email, registry.SMS: pref.sms}
        else:
            current = {c: c in event.default_channels for c in registry.CHANNELS}
        for channel in event.required_channels:
            current[channel] = True
        rows.append({"event": event, "current": current})
    return rows


def outbox_list(*, user, channel: str = "", status: str = "", q: str = "") -> QuerySet[OutboxMessage]:
    """The outbox messages this user may read on the dev outbox page, newest first.

    Staff see every message; anyone else only those for them: their user, or their e-mail
    address or phone number as the recipient.
    """
    qs = (
        OutboxMessage.objects.select_related("dev_delivery")
        .prefetch_related("attachments")
        .order_by("-created_at", "-id")
    )
    if not (user.is_staff or user.is_superuser):
        mine = Q(user=user)
        if user.email:
            mine |= Q(recipient__iexact=user.email)
        if user.phone:
            mine |= Q(recipient=user.phone)
        qs = qs.filter(mine)
    if channel:
        qs = qs.filter(channel=channel)
    if status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(Q(recipient__icontains=q) | Q(subject__icontains=q) | Q(body__icontains=q))
    return qs


def dev_message_text(*, message: OutboxMessage) -> str:
    """The text of a message as its recipient got it from the dev transport, or will get it.

    For demos and tests only (the demo signs with the code it reads here): what the dev
    transport delivered, else the text with the still sealed secret filled in, else the masked text.
    """
    from .transports import message_texts

    delivered = DevDelivery.objects.filter(message_id=message.pk).values_list("body", flat=True).first()
    if delivered is not None:
        return delivered
    message = OutboxMessage.objects.get(pk=message.pk)
    if message.secret:
        return message_texts(message)[0]
    return message.body_display


def outbox_attachment_get(*, user, message_id: int, attachment_id: int) -> OutboxAttachment:
    """One attachment of a message this user may read on the dev outbox; else OutboxAttachment.DoesNotExist."""
    readable = outbox_list(user=user).filter(pk=message_id)
    return OutboxAttachment.objects.select_related("message__user").get(pk=attachment_id, message__in=readable)
