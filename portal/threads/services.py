"""Writes: post a message (or an internal note) on an object's thread, and mark a thread read.

`message_post` is not durable: an app may post from inside its own transaction (a back-office
note written while a case is handled), and the message then exists exactly when the case's change
does. Notifications are outbox rows of the same transaction (`notify`).
"""

import hashlib

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal.audit.services import audit_record
from portal.core import uploads
from portal.notifications.services import notify

from .models import Message, MessageAttachment, Thread, ThreadRead
from .selectors import ThreadAccess, thread_access, thread_of, visible_messages

ATTACHMENT_KINDS = (uploads.PDF, uploads.PNG, uploads.JPEG)
EVENT_MESSAGE = "threads.message_posted"


def message_post(*, actor, obj, body: str, internal: bool = False, files=()) -> Message:
    """Post `body` (and `files`) on `obj`'s thread as `actor`; the thread is made with its first message.

    404 when the actor may not read the object's thread, PermissionDenied when they may only read it
    or ask for an internal note from the customer side, ValidationError (by field: `body`, `files`)
    for an empty or too long message or a file that is not a clean PDF, PNG or JPEG. A refusal writes
    nothing, files included.
    """
    access = thread_access(actor=actor, obj=obj)
    if not access.read:
        raise Http404
    if not access.write:
        raise PermissionDenied(_("You can read this conversation but not write in it."))
    internal = bool(internal)
    if internal and not access.staff_side:
        raise PermissionDenied(_("Only staff can write internal notes."))
    body = (body or "").replace("\r\n", "\n").strip()
    files = list(files or ())
    checked = _message_check(body, files)

    with transaction.atomic():
        thread, _created = Thread.objects.get_or_create(
            content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk
        )
        message = Message.objects.create(thread=thread, author=actor, body=body, internal=internal)
        stored = [_attachment_store(message, upload, kind) for upload, kind in checked]
        _read_up_to(thread=thread, user=actor, message_id=message.pk)
        audit_record(
            action="threads.note_added" if internal else "threads.message_posted",
            actor=actor,
            obj=obj,
            changes={
                "message": message.pk,
                "internal": internal,
                "attachments": [{"name": a.name, "sha256": a.sha256} for a in stored],
            },
        )
        for user in _recipients(access, actor=actor, internal=internal):
            notify(
                user=user,
                event=EVENT_MESSAGE,
                context={"author": str(actor), "subject": access.kind.subject(obj), "internal": internal},
                link=access.kind.url(obj, user),
                idempotency_key=f"threads:message:{message.pk}:{user.pk}",
            )
    return message


def thread_mark_read(*, actor, obj, up_to: int | None = None) -> int:
    """Mark the actor's view of `obj`'s thread read up to message `up_to` (default: the newest they may see).

    Returns the id read up to; 404 when the actor may not read the thread.
    """
    access = thread_access(actor=actor, obj=obj)
    if not access.read:
        raise Http404
    thread = thread_of(obj)
    if thread is None:
        return 0
    if up_to is None:
        up_to = visible_messages(access, thread).order_by("-id").values_list("id", flat=True).first() or 0
    thread_read_advance(thread=thread, user=actor, message_id=up_to)
    return up_to


def thread_read_advance(*, thread: Thread, user, message_id: int, last_read: int | None = None) -> None:
    """Move the user's read mark forward to `message_id`, never back. For callers that have checked
    access and loaded the thread (the panel, the poll); `last_read`, when known, spares a query when
    nothing changes."""
    if not message_id or (last_read is not None and last_read >= message_id):
        return
    with transaction.atomic():
        _read_up_to(thread=thread, user=user, message_id=message_id)


def _message_check(body: str, files: list) -> list:
    """Every refusal at once, by field; the uploads' kinds by content when all is well."""
    errors: dict[str, list] = {}
    limit = settings.THREADS_MAX_BODY_CHARS
    if not body and not files:
        errors["body"] = [_("Write a message or attach a file.")]
    elif len(body) > limit:
        errors["body"] = [
            _("A message may have at most %(limit)d characters; this one has %(count)d.")
            % {"limit": limit, "count": len(body)}
        ]
    checked = []
    if len(files) > settings.THREADS_MAX_ATTACHMENTS:
        errors["files"] = [
            ngettext(
                "A message can have at most %(max)d attachment.",
                "A message can have at most %(max)d attachments.",
                settings.THREADS_MAX_ATTACHMENTS,
            )
            % {"max": settings.THREADS_MAX_ATTACHMENTS}
        ]
    else:
        for upload in files:
            try:
                kind = uploads.upload_check(
                    upload, kinds=ATTACHMENT_KINDS, max_bytes=settings.THREADS_MAX_ATTACHMENT_BYTES
                )
            except ValidationError as exc:
                errors.setdefault("files", []).extend(exc.messages)
            else:
                checked.append((upload, kind))
    if errors:
        raise ValidationError(errors)
    return checked


def _attachment_store(message: Message, upload, kind: uploads.FileKind) -> MessageAttachment:
    """Stored under a random name; shown under the uploader's name with the extension of what it is."""
    digest, size = hashlib.sha256(), 0
    upload.seek(0)
    for chunk in iter(lambda: upload.read(1024 * 1024), b""):
        digest.update(chunk)
        size += len(chunk)
    upload.seek(0)
    attachment = MessageAttachment(
        message=message,
        name=uploads.upload_display_name(getattr(upload, "name", "") or "", kind),
        content_type=kind.content_type,
        size=size,
        sha256=digest.hexdigest(),
    )
    attachment.file.save(uploads.upload_stored_name(kind), upload, save=False)
    attachment.save()
    return attachment


def _read_up_to(*, thread: Thread, user, message_id: int) -> None:
    """Move the user's read mark forward to `message_id` (never back)."""
    moved = ThreadRead.objects.filter(thread=thread, user=user, last_read_message_id__lt=message_id).update(
        last_read_message_id=message_id, read_at=timezone.now()
    )
    if not moved:
        ThreadRead.objects.get_or_create(
            thread=thread, user=user, defaults={"last_read_message_id": message_id, "read_at": timezone.now()}
        )


def _recipients(access: ThreadAccess, *, actor, internal: bool) -> list:
    """Who hears of a new message: the other side's participants who may read it; for an internal
    note the author's staff colleagues only — the customer side is never told a note exists."""
    recipients, seen = [], {actor.pk}
    for user in access.kind.participants(access.obj):
        if user is None or user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        theirs = thread_access(actor=user, obj=access.obj)
        if not theirs.read:
            continue
        if internal:
            if theirs.staff_side:
                recipients.append(user)
        elif theirs.staff_side != access.staff_side:
            recipients.append(user)
    return recipients
