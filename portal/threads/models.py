import uuid

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.core import uploads


class Thread(models.Model):
    """The conversation about one object (a client, a signed request, …); at most one per object.

    Made when its first message is posted. Who may read or write it is the object's owning app's
    decision (`registry.register_thread_kind`), never the thread's.
    """

    content_type = models.ForeignKey(ContentType, verbose_name=_("object type"), on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField(_("object id"))
    content_object = GenericForeignKey("content_type", "object_id")
    created_at = models.DateTimeField(_("started"), default=timezone.now)

    class Meta:
        verbose_name = _("message thread")
        verbose_name_plural = _("message threads")
        constraints = [
            models.UniqueConstraint(fields=["content_type", "object_id"], name="threads_thread_one_per_object"),
        ]

    def __str__(self):
        return f"{self.content_type.model} {self.object_id}"


class Message(models.Model):
    """One message of a thread. An internal note is for the staff side only: the customer never sees it."""

    thread = models.ForeignKey(Thread, verbose_name=_("thread"), on_delete=models.PROTECT, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT, related_name="+"
    )
    body = models.TextField(_("message"), blank=True)
    internal = models.BooleanField(_("internal note"), default=False)
    created_at = models.DateTimeField(_("written"), default=timezone.now)

    class Meta:
        ordering = ["id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes = [models.Index(fields=["thread", "id"], name="threads_message_thread_idx")]

    def __str__(self):
        return f"{self.author} · {self.created_at:%Y-%m-%d %H:%M}"


def attachment_path(instance, filename: str) -> str:
    """A random name per file with the extension of the kind found by content; the uploader's name
    is kept in the row, never used on disk. Stored in the default storage, outside the web root."""
    kind = uploads.kind_from_extension(filename.rpartition(".")[2]) if "." in filename else None
    return f"threads/{instance.message.thread_id}/{uuid.uuid4().hex}.{kind.extension if kind else 'bin'}"


class MessageAttachment(models.Model):
    """A file sent with a message (PDF, PNG or JPEG, judged by its bytes), served only to readers of the message."""

    message = models.ForeignKey(
        Message, verbose_name=_("message"), on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=300)
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=64)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField("SHA-256", max_length=64)

    class Meta:
        ordering = ["id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self):
        return self.name

    @property
    def kind(self) -> uploads.FileKind:
        return uploads.kind_from_content_type(self.content_type) or uploads.UNKNOWN_KIND


class ThreadRead(models.Model):
    """How far one participant has read a thread: messages after `last_read_message_id` are unread."""

    thread = models.ForeignKey(Thread, verbose_name=_("thread"), on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    last_read_message_id = models.PositiveBigIntegerField(_("last message read"), default=0)
    read_at = models.DateTimeField(_("read"), default=timezone.now)

    class Meta:
        verbose_name = _("read state")
        verbose_name_plural = _("read states")
        constraints = [models.UniqueConstraint(fields=["thread", "user"], name="threads_read_one_per_user")]

    def __str__(self):
        return f"{self.user} · {self.thread}"
