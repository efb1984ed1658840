"""Reads of threads, always for one actor: what they may see of an object's conversation.

Access to a thread is access to its object, asked of the owning app's registered callables. The
customer side never gets internal notes, whatever the entry point (page fragment, poll, download,
evidence aside, which is for staff).
"""

from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db.models import Prefetch
from django.http import Http404

from .models import Message, MessageAttachment, Thread, ThreadRead
from .registry import ThreadKind, thread_kind_for, thread_kind_of

# The newest messages a page or poll shows at once; earlier ones are loaded on demand.
MESSAGES_SHOWN = 50


@dataclass(frozen=True)
class ThreadAccess:
    """What one actor may do with one object's thread, decided once per request by the owning app."""

    kind: ThreadKind
    obj: object
    read: bool
    write: bool
    staff_side: bool

    @property
    def content_type_id(self) -> int:
        return ContentType.objects.get_for_model(self.obj).pk


def thread_access(*, actor, obj) -> ThreadAccess:
    kind = thread_kind_of(obj)
    read = bool(actor is not None and actor.is_authenticated and actor.is_active and kind.can_read(actor, obj))
    return ThreadAccess(
        kind=kind,
        obj=obj,
        read=read,
        write=read and bool(kind.can_write(actor, obj)),
        staff_side=read and bool(kind.is_staff_side(actor, obj)),
    )


def access_thread_object(*, actor, content_type_id, object_id) -> ThreadAccess:
    """The object behind `/threads/<content_type_id>/<object_id>/…` with the actor's access; 404 unless
    the object exists, has a thread kind and the actor may read it (a foreign object does not exist)."""
    try:
        content_type = ContentType.objects.get_for_id(int(content_type_id))
    except (ContentType.DoesNotExist, TypeError, ValueError):
        raise Http404 from None
    model = content_type.model_class()
    kind = thread_kind_for(model) if model is not None else None
    if kind is None:
        raise Http404
    obj = kind.objects().filter(pk=object_id).first()
    if obj is None:
        raise Http404
    access = thread_access(actor=actor, obj=obj)
    if not access.read:
        raise Http404
    return access


def thread_of(obj) -> Thread | None:
    """The object's thread, or None while nobody has written."""
    return Thread.objects.filter(content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk).first()


def visible_messages(access: ThreadAccess, thread: Thread):
    """The thread's messages this actor may see: internal notes only for the staff side."""
    rows = Message.objects.filter(thread=thread)
    return rows if access.staff_side else rows.filter(internal=False)


def thread_messages(*, actor, obj, after_id=None, before_id=None, limit: int = MESSAGES_SHOWN) -> list[Message]:
    """Up to `limit` messages the actor may see, oldest first: the newest ones, those after `after_id`
    (a poll) or the ones just before `before_id` (earlier messages). Never an internal note for the
    customer side. 404 when the actor may not read the object's thread."""
    access = thread_access(actor=actor, obj=obj)
    if not access.read:
        raise Http404
    return messages_of(access, thread_of(obj), after_id=after_id, before_id=before_id, limit=limit)


def messages_of(
    access: ThreadAccess, thread: Thread | None, *, after_id=None, before_id=None, limit: int = MESSAGES_SHOWN
) -> list[Message]:
    """`thread_messages` for an access already decided and a thread already loaded (pages, polls)."""
    if thread is None or not access.read:
        return []
    rows = visible_messages(access, thread)
    if after_id is not None:
        rows = rows.filter(id__gt=after_id)
    if before_id is not None:
        rows = rows.filter(id__lt=before_id)
    # A poll reads forward from `after_id`; otherwise the newest are cut at `limit`, shown oldest first.
    rows = (
        rows.select_related("author")
        .prefetch_related(Prefetch("attachments", queryset=MessageAttachment.objects.order_by("id")))
        .order_by("id" if after_id is not None else "-id")[:limit]
    )
    messages = list(rows)
    return messages if after_id is not None else messages[::-1]


def thread_last_read_id(*, actor, thread: Thread | None) -> int:
    if thread is None:
        return 0
    row = ThreadRead.objects.filter(thread=thread, user=actor).values_list("last_read_message_id", flat=True).first()
    return row or 0


def thread_unread_count(*, actor, obj) -> int:
    """Messages of others the actor has not read yet (internal notes count only for the staff side)."""
    access = thread_access(actor=actor, obj=obj)
    if not access.read:
        return 0
    thread = thread_of(obj)
    if thread is None:
        return 0
    last_read = thread_last_read_id(actor=actor, thread=thread)
    return visible_messages(access, thread).filter(id__gt=last_read).exclude(author=actor).count()


def thread_attachment_access(*, actor, content_type_id, object_id, attachment_id) -> MessageAttachment:
    """An attachment of the object's thread that the actor may download; 404 otherwise (another
    object's file, or an internal note's file asked for by the customer side)."""
    access = access_thread_object(actor=actor, content_type_id=content_type_id, object_id=object_id)
    thread = thread_of(access.obj)
    if thread is None:
        raise Http404
    rows = MessageAttachment.objects.filter(message__thread=thread)
    if not access.staff_side:
        rows = rows.filter(message__internal=False)
    attachment = rows.filter(pk=attachment_id).first()
    if attachment is None:
        raise Http404
    return attachment
