"""The thread's part of an evidence pack: every message, internal notes marked as such, and the files.

Packs are for staff (the evidence kind's `can_build` decides who), so internal notes are in, marked.
"""

from django.utils import timezone
from django.utils.translation import gettext as _

from portal.evidence.registry import EvidenceFile, EvidenceSection

from .models import Message
from .selectors import thread_of


def thread_evidence_section(obj) -> EvidenceSection | None:
    thread = thread_of(obj)
    if thread is None:
        return None
    rows, files = [], []
    messages = Message.objects.filter(thread=thread).select_related("author").prefetch_related("attachments")
    for message in messages.order_by("id"):
        names = []
        for attachment in message.attachments.all():
            # Numbered by message, so two files of the same name never collide in the ZIP.
            name = f"message-{message.pk}-{attachment.pk}-{attachment.name}"
            names.append(f"{name} (SHA-256 {attachment.sha256})")
            with attachment.file.open("rb") as handle:
                content = handle.read()
            description = _("Attachment of an internal note") if message.internal else _("Attachment of a message")
            files.append(EvidenceFile(name=name, content=content, description=str(description)))
        rows.append(
            [
                timezone.localtime(message.created_at).isoformat(timespec="seconds"),
                message.author.email,
                _("Internal note") if message.internal else _("Message"),
                message.body,
                "; ".join(names),
            ]
        )
    return EvidenceSection(
        key="thread",
        title=_("Messages"),
        columns=[_("Time"), _("Author"), _("Kind"), _("Text"), _("Attachments")],
        rows=[[str(cell) for cell in row] for row in rows],
        files=files,
        note=_("Internal notes were seen by staff only, never by the customer; they are marked as such."),
    )
