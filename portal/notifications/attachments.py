"""Files that go with an outbox e-mail: registered renderers, made when the mail leaves.

An app registers a renderer in its AppConfig.ready() (`register_attachment("bnpl.schedule_pdf",
render)`, where `render(params, *, language) -> bytes`), and whoever queues an e-mail names it with
`Attachment(renderer=…, params=…, filename=…)`. The outbox row keeps the name and parameters, not
the file: the worker renders it in the recipient's language when it sends (a retry renders it
again, so a failed send never loses it), and the dev outbox renders it when someone who may read
the message downloads it. So the kernel knows no app, and no copy of a document sits in the outbox.

Limits: e-mail only (an SMS has no attachments: refused when queued), at most MAX_FILES per
message, and PORTAL_OUTBOX_ATTACHMENT_MAX_BYTES for all files of a message together: a message
whose files grow past it fails for good rather than being retried.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings

MAX_FILES = 5
_FILENAME_RE = re.compile(r"^[\w][\w.\- ]{0,118}$")

_renderers: dict[str, Callable[..., bytes]] = {}


class AttachmentRefused(Exception):
    """The file cannot go out with this message, now or later (too large, renderer gone)."""


@dataclass(frozen=True)
class Attachment:
    """An attachment asked for: which renderer makes it, from what, under which file name."""

    renderer: str
    filename: str
    params: dict = field(default_factory=dict)
    content_type: str = "application/pdf"


def register_attachment(key: str, render: Callable[..., bytes]) -> None:
    """Make a renderer known; registering the same key again replaces it (reloads, tests)."""
    _renderers[key] = render


def attachment_max_bytes() -> int:
    return getattr(settings, "PORTAL_OUTBOX_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)


def attachments_check(attachments, *, channel: str) -> list[Attachment]:
    """The attachments, checked before anything is written; raises ValueError for a programming error."""
    attachments = list(attachments or ())
    if not attachments:
        return []
    if channel != "email":
        raise ValueError("Only e-mails carry attachments; an SMS cannot.")
    if len(attachments) > MAX_FILES:
        raise ValueError(f"At most {MAX_FILES} attachments per e-mail.")
    for attachment in attachments:
        if attachment.renderer not in _renderers:
            raise ValueError(f"No attachment renderer {attachment.renderer!r} is registered.")
        if not _FILENAME_RE.match(attachment.filename):
            raise ValueError(f"Not a safe attachment file name: {attachment.filename!r}.")
    return attachments


def attachments_store(message, attachments: list[Attachment]) -> None:
    """Write the attachment rows of a freshly created outbox message (inside its transaction)."""
    from .models import OutboxAttachment

    OutboxAttachment.objects.bulk_create(
        OutboxAttachment(
            message=message,
            renderer=a.renderer,
            params=a.params,
            filename=a.filename,
            content_type=a.content_type,
        )
        for a in attachments
    )


def attachment_render(attachment, *, language: str) -> bytes:
    """The file of one attachment row, in `language`. Raises AttachmentRefused if it cannot go out."""
    render = _renderers.get(attachment.renderer)
    if render is None:
        raise AttachmentRefused(f"No attachment renderer {attachment.renderer!r} is registered any more.")
    data = render(attachment.params, language=language)
    if len(data) > attachment_max_bytes():
        raise AttachmentRefused(f"The attachment {attachment.filename} is too large to send ({len(data)} bytes).")
    return data


def message_files(message, *, language: str) -> list[tuple]:
    """Every file of an outbox message as (attachment row, content), made now.

    Raises AttachmentRefused when one cannot go out or all together pass the size limit; anything
    the renderer raises (its data briefly unavailable, say) is for the caller to retry.
    """
    files = []
    total = 0
    for attachment in message.attachments.all():
        data = attachment_render(attachment, language=language)
        total += len(data)
        if total > attachment_max_bytes():
            raise AttachmentRefused(f"The attachments are too large to send together ({total} bytes).")
        files.append((attachment, data))
    return files
