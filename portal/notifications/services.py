"""Writes: notify a user, queue e-mails and SMS, mark notifications read, change preferences.

Every function takes keyword arguments only and runs in its own transaction. Messages for
the outside world are outbox rows written in that transaction; delivery is queued after the
commit and never blocks or fails the caller when the broker is unavailable.
"""

import re
from dataclasses import dataclass, field

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from portal.audit.services import audit_record
from portal.core.cache import forget

from . import registry
from .attachments import Attachment, attachments_check, attachments_store
from .delivery import outbox_publish_after_commit
from .models import DevDelivery, Notification, NotificationPreference, OutboxMessage
from .params import params_freeze
from .sealed import PLACEHOLDER, secret_seal, text_mask
from .selectors import notification_channels, unread_count_key
from .texts import event_texts, user_language

E164_RE = re.compile(r"^\+[1-9]\d{6,14}$")
Channel = OutboxMessage.Channel
Status = OutboxMessage.Status


@dataclass
class NotifyResult:
    notification: Notification | None = None
    messages: list[OutboxMessage] = field(default_factory=list)


def notify(
    *,
    user,
    event: str,
    context: dict | None = None,
    link: str = "",
    idempotency_key: str | None = None,
    attachments: list[Attachment] | None = None,
):
    """Tell a user that something happened, on the channels they chose, in their language.

    `attachments` go with the e-mail only (attachments.py), if the user gets one.
    Raises `registry.UnknownEvent` or `ValueError` (bad link, bad attachment) before anything is written.
    """
    attachments = attachments_check(attachments, channel=Channel.EMAIL)
    event_type = registry.event_get(event)
    if link and not (link.startswith("/") and url_has_allowed_host_and_scheme(link, allowed_hosts=None)):
        raise ValueError("Notification links are paths inside the portal, e.g. /clients/42/.")
    channels = notification_channels(user=user, event=event_type)
    # Kept with the rows, so each text can be rendered again in the language of whoever reads it;
    # rendered now from exactly what is kept (in the recipient's language) for the rows' own copy.
    params = params_freeze(context or {}, event_type)
    texts = event_texts(
        event=event_type, params=params, user=user, link=link, channels=channels, language=user_language(user)
    )

    result = NotifyResult()
    with transaction.atomic():
        if registry.IN_APP in channels:
            result.notification, _created = _get_or_create(
                Notification,
                _child_key(idempotency_key, "in_app"),
                user=user,
                event=event,
                params=params,
                title=texts["title"][:200],
                body=texts["body"],
                link_url=link,
            )
        outgoing = []
        if registry.EMAIL in channels:
            outgoing.append(
                (
                    Channel.EMAIL,
                    {
                        "recipient": user.email,
                        "subject": texts["subject"],
                        "body": texts["email_body"],
                        "html_body": texts["html_body"],
                    },
                )
            )
        if registry.SMS in channels:
            outgoing.append((Channel.SMS, {"recipient": user.phone, "body": texts["sms"]}))
        queued = []
        for channel, fields in outgoing:
            message, created = _get_or_create(
                OutboxMessage,
                _child_key(idempotency_key, channel),
                channel=channel,
                user=user,
                event=event,
                params=params,
                link_url=link,
                **fields,
            )
            result.messages.append(message)
            if created:
                if channel == Channel.EMAIL:
                    attachments_store(message, attachments)
                queued.append(message.pk)
        outbox_publish_after_commit(queued)
    return result


def email_queue(
    *,
    to: str,
    subject: str,
    body: str,
    html_body: str = "",
    user=None,
    event: str = "",
    idempotency_key: str | None = None,
    secret: str = "",
    send_before=None,
    attachments: list[Attachment] | None = None,
) -> OutboxMessage:
    """Queue one e-mail through the outbox (allauth's mails use this too).

    `secret` is kept apart from the text, sealed, and filled in for `sealed.PLACEHOLDER` only
    when the mail leaves; `send_before` is when the mail stops being worth sending; `attachments`
    are made when it leaves (attachments.py).
    """
    attachments = attachments_check(attachments, channel=Channel.EMAIL)
    try:
        validate_email(to)
    except ValidationError:
        raise ValidationError(_("Enter a valid e-mail address."), code="invalid_email") from None
    if not body.strip():
        raise ValidationError(_("An e-mail needs a text."), code="empty_body")
    sealed = _secret_check(secret, body)
    with transaction.atomic():
        message, created = _get_or_create(
            OutboxMessage,
            idempotency_key,
            channel=Channel.EMAIL,
            recipient=to,
            subject=" ".join(subject.splitlines()).strip()[:255],
            body=body,
            html_body=html_body,
            user=user,
            event=event,
            secret=sealed,
            send_before=send_before,
        )
        if created:
            attachments_store(message, attachments)
        outbox_publish_after_commit([message.pk] if created else [])
    return message


def sms_queue(
    *,
    to: str,
    body: str,
    user=None,
    event: str = "",
    idempotency_key: str | None = None,
    secret: str = "",
    send_before=None,
) -> OutboxMessage:
    """Queue one SMS through the outbox; `to` is an E.164 number such as +4915112345678.

    A one-time code goes in `secret`, with `sealed.PLACEHOLDER` in `body` where it belongs: the
    row keeps it sealed and only the transport fills it in. `send_before` is when the SMS stops
    being worth sending (a code that has expired).
    """
    if not E164_RE.match(to or ""):
        raise ValidationError(_("Enter a mobile number in international format, e.g. +4915112345678."), code="phone")
    if not body.strip():
        raise ValidationError(_("An SMS needs a text."), code="empty_body")
    sealed = _secret_check(secret, body)
    with transaction.atomic():
        message, created = _get_or_create(
            OutboxMessage,
            idempotency_key,
            channel=Channel.SMS,
            recipient=to,
            body=body.strip(),
            user=user,
            event=event,
            secret=sealed,
            send_before=send_before,
        )
        outbox_publish_after_commit([message.pk] if created else [])
    return message


def outbox_secret_destroy(*, message_ids, reason: str = "") -> int:
    """Drop the secret part of these messages now, wherever it is kept; returns how many held one.

    For the owner of the secret, inside the transaction that makes it worthless (a code whose round
    ended): a message still waiting is not sent any more, and the dev transport's copy is masked.
    A message being sent right now keeps going; its worker finds nothing left to drop.
    """
    ids = [pk for pk in message_ids if pk is not None]
    if not ids:
        return 0
    now = timezone.now()
    with transaction.atomic():
        held = OutboxMessage.objects.filter(pk__in=ids).exclude(secret="")
        waiting = held.filter(status=Status.PENDING).update(
            status=Status.FAILED,
            last_error=(reason or "Not sent: its secret part was destroyed (no longer needed).")[:2000],
            secret="",
            secret_wiped_at=now,
        )
        destroyed = waiting + held.update(secret="", secret_wiped_at=now)
        copies = DevDelivery.objects.filter(message_id__in=ids, message__secret_wiped_at__isnull=False).select_related(
            "message"
        )
        for copy in copies:
            masked = text_mask(copy.message.body), text_mask(copy.message.html_body)
            if (copy.body, copy.html_body) != masked:
                DevDelivery.objects.filter(pk=copy.pk).update(body=masked[0], html_body=masked[1])
    return destroyed


def notification_mark_read(*, user, notification_id: int) -> Notification:
    """Mark one of the user's notifications read; another user's id raises Notification.DoesNotExist."""
    with transaction.atomic():
        notification = Notification.objects.get(pk=notification_id, user=user)
        if notification.read_at is None:
            notification.read_at = timezone.now()
            Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=notification.read_at)
            unread_count_changed(user_id=user.pk)
    return notification


def notification_mark_all_read(*, user) -> int:
    with transaction.atomic():
        marked = Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
        unread_count_changed(user_id=user.pk)
    return marked


def unread_count_changed(*, user_id) -> None:
    """Forget the cached unread count of a user; the next page counts again."""
    forget(cache, unread_count_key(user_id))


def forget_unread_count(sender, instance, **kwargs) -> None:
    """Receiver for a notification saved or deleted (created by `notify`, edited in the admin)."""
    unread_count_changed(user_id=instance.user_id)


def preferences_update(*, user, event: str, in_app: bool, email: bool, sms: bool) -> NotificationPreference:
    """Set the channels for one event type; invalid choices raise ValidationError and change nothing."""
    return preferences_set(user=user, choices={event: {"in_app": in_app, "email": email, "sms": sms}})[0]


def preferences_set(*, user, choices: dict[str, dict[str, bool]]) -> list[NotificationPreference]:
    """Set the channels for several event types at once: all are saved, or none if any is invalid."""
    errors = []
    for key, wanted in choices.items():
        errors += _preference_errors(user=user, key=key, wanted=wanted)
    if errors:
        raise ValidationError(errors)
    saved = []
    with transaction.atomic():
        for key, wanted in choices.items():
            pref, _created = NotificationPreference.objects.update_or_create(
                user=user,
                event=key,
                defaults={c: bool(wanted.get(c)) for c in registry.CHANNELS},
            )
            saved.append(pref)
    return saved


def outbox_messages_requeue(*, actor, message_ids) -> int:
    """Give unknown or failed messages another try (staff decided; audited per message)."""
    requeued = []
    with transaction.atomic():
        # A message whose secret part is gone cannot be sent as written any more.
        rows = (
            OutboxMessage.objects.select_for_update()
            .filter(pk__in=list(message_ids), status__in=[Status.UNKNOWN, Status.FAILED])
            .exclude(secret="", secret_wiped_at__isnull=False)
        )
        for message in rows:
            old_status, old_attempts = message.status, message.attempts
            message.status = Status.PENDING
            message.attempts = 0
            message.next_attempt_at = timezone.now()
            message.claimed_at = None
            message.send_started_at = None
            message.save(update_fields=["status", "attempts", "next_attempt_at", "claimed_at", "send_started_at"])
            audit_record(
                action="notifications.outbox_requeued",
                actor=actor,
                obj=message,
                changes={"status": [old_status, Status.PENDING], "attempts": [old_attempts, 0]},
            )
            requeued.append(message.pk)
        outbox_publish_after_commit(requeued)
    return len(requeued)


def _preference_errors(*, user, key: str, wanted: dict[str, bool]) -> list[ValidationError]:
    try:
        event = registry.event_get(key)
    except registry.UnknownEvent:
        event = None
    if event is None or not event.concerns(user):  # another role's event is as unknown as a typo
        return [
            ValidationError(_("Unknown notification type: %(event)s."), code="unknown_event", params={"event": key})
        ]
    if not event.configurable:
        return [
            ValidationError(_("%(event)s cannot be changed."), code="not_configurable", params={"event": event.label})
        ]
    errors = []
    params = {"event": event.label}
    for channel in sorted(event.required_channels):
        if not wanted.get(channel):
            errors.append(
                ValidationError(
                    _("%(event)s: %(channel)s cannot be switched off."),
                    code="required",
                    params={**params, "channel": registry.CHANNEL_LABELS[channel]},
                )
            )
    if wanted.get("sms"):
        if not event.supports_sms:
            errors.append(ValidationError(_("%(event)s is not sent by SMS."), code="no_sms", params=params))
        elif not user.phone:
            errors.append(
                ValidationError(
                    _("%(event)s: add a mobile phone number to your profile to receive SMS."),
                    code="no_phone",
                    params=params,
                )
            )
    return errors


def _secret_check(secret: str, body: str) -> str:
    """The sealed secret for the row ("" without one); a secret needs a place in the text."""
    if not secret:
        return ""
    if PLACEHOLDER not in body:
        raise ValueError(f"A message with a secret part must show where it goes: put {PLACEHOLDER} in its text.")
    return secret_seal(secret)


def _child_key(key: str | None, channel: str) -> str | None:
    return f"{key}:{channel}" if key else None


def _get_or_create(model, idempotency_key: str | None, **fields):
    """Create the row, or return the one already stored under this idempotency key."""
    if idempotency_key is None:
        return model.objects.create(**fields), True
    return model.objects.get_or_create(idempotency_key=idempotency_key, defaults=fields)
