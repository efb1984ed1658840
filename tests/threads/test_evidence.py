"""The thread's section of an evidence pack: every message, internal notes marked, files with their hash."""

import hashlib

import pytest

from portal.evidence.registry import evidence_sections
from portal.threads.services import message_post

from .conftest import pdf_upload

pytestmark = pytest.mark.django_db


def _section(obj):
    provider = next(p for p in evidence_sections() if p.key == "thread")
    return provider.build(obj)


def test_an_object_without_messages_has_no_thread_section(book):
    assert _section(book.anna) is None


def test_the_section_holds_every_message_with_internal_notes_marked_and_the_files(cast, book):
    message_post(actor=cast.client1, obj=book.anna, body="Question", files=[pdf_upload("q.pdf", "Q")])
    note = message_post(actor=cast.broker1, obj=book.anna, body="Staff only", internal=True)
    message_post(actor=cast.broker1, obj=book.anna, body="Answer")

    section = _section(book.anna)

    assert section.key == "thread"
    assert [(row[1], row[2], row[3]) for row in section.rows] == [
        ("client1@example.com", "Message", "Question"),
        ("broker1@example.com", "Internal note", "Staff only"),
        ("broker1@example.com", "Message", "Answer"),
    ]
    assert note.pk and "Internal notes" in section.note
    (file,) = section.files
    assert file.name.endswith("-q.pdf") and file.content.startswith(b"%PDF-")
    assert hashlib.sha256(file.content).hexdigest() in section.rows[0][4]
