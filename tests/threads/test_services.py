"""Posting on a client's thread: who may write what, who is told, and bad input that changes nothing."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404

from portal.audit.models import AuditEvent
from portal.notifications.models import Notification, OutboxMessage
from portal.threads.models import Message, MessageAttachment, Thread, ThreadRead
from portal.threads.selectors import thread_messages, thread_unread_count
from portal.threads.services import message_post, thread_mark_read

from .conftest import pdf_upload, png_upload

pytestmark = pytest.mark.django_db


def test_the_client_writes_and_their_adviser_is_told_in_the_portal_and_by_email(cast, book):
    message = message_post(actor=cast.client1, obj=book.anna, body="  Can we talk about my savings?\r\n ")

    assert message.body == "Can we talk about my savings?"
    assert message.internal is False
    assert Thread.objects.get().content_object == book.anna
    notification = Notification.objects.get(user=cast.broker1)
    assert notification.event == "threads.message_posted"
    assert notification.title == "New message from Anna Albers"
    assert notification.link_url == f"/broker/clients/{book.anna.pk}/#thread"
    mail = OutboxMessage.objects.get(user=cast.broker1, channel=OutboxMessage.Channel.EMAIL)
    assert "Anna Albers" in mail.body
    # The author is not told about their own message, and has read it.
    assert not Notification.objects.filter(user=cast.client1).exists()
    assert ThreadRead.objects.get(user=cast.client1).last_read_message_id == message.pk


def test_the_advisers_answer_reaches_the_client_with_a_link_to_their_zone(cast, book):
    message_post(actor=cast.broker1, obj=book.anna, body="Gladly, I will call you.")

    notification = Notification.objects.get(user=cast.client1)
    assert notification.link_url == "/client/adviser/#thread"
    assert "Boris Brandt" in notification.title
    assert not Notification.objects.filter(user=cast.broker1).exists()


def test_an_internal_note_is_never_told_to_the_customer_side(cast, book):
    message_post(actor=cast.manager, obj=book.anna, body="Check the risk profile first.", internal=True)

    assert not Notification.objects.filter(user=cast.client1).exists()
    assert not OutboxMessage.objects.filter(user=cast.client1).exists()
    # The adviser, a colleague on the staff side, hears of it.
    assert Notification.objects.get(user=cast.broker1).title == f"Internal note from {cast.manager}"


def test_a_notification_never_quotes_the_message(cast, book):
    message_post(actor=cast.broker1, obj=book.anna, body="Your secret plan XYZ-123")

    texts = [n.title + n.body for n in Notification.objects.all()]
    texts += [m.subject + m.body + m.html_body for m in OutboxMessage.objects.all()]
    assert texts and not any("XYZ-123" in text for text in texts)


def test_the_client_cannot_write_an_internal_note(cast, book):
    with pytest.raises(PermissionDenied):
        message_post(actor=cast.client1, obj=book.anna, body="Psst", internal=True)
    assert not Message.objects.exists()
    assert not Thread.objects.exists()


def test_back_office_reads_the_thread_but_does_not_write(cast, book):
    message_post(actor=cast.client1, obj=book.anna, body="Hello")
    message_post(actor=cast.broker1, obj=book.anna, body="Note", internal=True)

    assert [m.body for m in thread_messages(actor=cast.backoffice, obj=book.anna)] == ["Hello", "Note"]
    with pytest.raises(PermissionDenied):
        message_post(actor=cast.backoffice, obj=book.anna, body="Hi")
    assert Message.objects.count() == 2


@pytest.mark.parametrize("who", ["broker2", "broker3", "client2", "partner", "outsider"])
def test_a_stranger_to_the_client_has_no_thread_to_write_in(cast, book, who):
    with pytest.raises(Http404):
        message_post(actor=getattr(cast, who), obj=book.anna, body="Hello")
    with pytest.raises(Http404):
        thread_messages(actor=getattr(cast, who), obj=book.anna)
    assert not Thread.objects.exists()


def test_the_firm_manager_writes_on_the_staff_side(cast, book):
    message_post(actor=cast.manager, obj=book.anna, body="Note for the team", internal=True)
    assert Message.objects.get().internal is True


def test_every_message_is_in_the_audit_trail_with_its_files(cast, book):
    message = message_post(actor=cast.client1, obj=book.anna, body="See the file", files=[pdf_upload()])
    note = message_post(actor=cast.broker1, obj=book.anna, body="Note", internal=True)

    posted = AuditEvent.objects.get(action="threads.message_posted")
    assert (posted.actor, posted.object_type, posted.object_id) == (cast.client1, "clients.client", str(book.anna.pk))
    assert posted.changes["message"] == message.pk
    assert posted.changes["attachments"][0]["name"] == "statement.pdf"
    noted = AuditEvent.objects.get(action="threads.note_added")
    assert noted.changes == {"message": note.pk, "internal": True, "attachments": []}


def test_attachments_are_stored_under_a_random_name_with_their_hash(cast, book):
    message = message_post(
        actor=cast.client1, obj=book.anna, body="", files=[pdf_upload("my statement.exe"), png_upload()]
    )

    pdf, png = MessageAttachment.objects.filter(message=message).order_by("id")
    assert (pdf.name, pdf.content_type) == ("my statement.pdf", "application/pdf")
    assert (png.name, png.content_type) == ("photo.png", "image/png")
    assert "my statement" not in pdf.file.name and pdf.file.name.endswith(".pdf")
    import hashlib

    with pdf.file.open("rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == pdf.sha256


def _nothing_written():
    return (
        Thread.objects.count(),
        Message.objects.count(),
        MessageAttachment.objects.count(),
        AuditEvent.objects.filter(action__startswith="threads.").count(),
        Notification.objects.count(),
        OutboxMessage.objects.count(),
    ) == (0, 0, 0, 0, 0, 0)


@pytest.mark.parametrize(
    ("body", "files", "field", "text"),
    [
        ("", [], "body", "Write a message or attach a file."),
        ("   \n  ", [], "body", "Write a message or attach a file."),
        ("x" * 5001, [], "body", "at most 5000 characters; this one has 5001"),
        ("Look", [SimpleUploadedFile("run.pdf", b"MZ\x90\x00program")], "files", "is a program"),
        ("Look", [SimpleUploadedFile("page.pdf", b"<html><script>alert(1)</script>")], "files", "not a PDF"),
        ("Look", [SimpleUploadedFile("empty.pdf", b"")], "files", "is empty"),
        ("Look", [pdf_upload(f"f{n}.pdf") for n in range(6)], "files", "at most 5 attachments"),
    ],
)
def test_bad_input_is_refused_with_the_reason_and_changes_nothing(cast, book, settings, body, files, field, text):
    with pytest.raises(ValidationError) as refused:
        message_post(actor=cast.client1, obj=book.anna, body=body, files=files)
    assert text in " ".join(refused.value.message_dict[field])
    assert _nothing_written()
    media = settings.MEDIA_ROOT
    assert not media.exists() or not any(media.rglob("*.*"))


def test_a_file_over_the_size_limit_is_refused(cast, book, settings):
    settings.THREADS_MAX_ATTACHMENT_BYTES = 100
    with pytest.raises(ValidationError) as refused:
        message_post(actor=cast.client1, obj=book.anna, body="Big", files=[pdf_upload()])
    assert "files may be at most 100" in " ".join(refused.value.message_dict["files"])
    assert _nothing_written()


def test_one_bad_file_refuses_the_good_ones_with_it(cast, book):
    with pytest.raises(ValidationError):
        message_post(
            actor=cast.client1, obj=book.anna, body="Two", files=[pdf_upload(), SimpleUploadedFile("x.png", b"nope")]
        )
    assert _nothing_written()


def test_read_state_counts_the_others_messages_the_reader_may_see(cast, book):
    message_post(actor=cast.client1, obj=book.anna, body="One")
    message_post(actor=cast.client1, obj=book.anna, body="Two")
    message_post(actor=cast.manager, obj=book.anna, body="Note", internal=True)

    assert thread_unread_count(actor=cast.broker1, obj=book.anna) == 3
    assert thread_unread_count(actor=cast.client1, obj=book.anna) == 0  # own messages; the note is not theirs
    assert thread_unread_count(actor=cast.broker3, obj=book.anna) == 0

    thread_mark_read(actor=cast.broker1, obj=book.anna)
    assert thread_unread_count(actor=cast.broker1, obj=book.anna) == 0

    reply = message_post(actor=cast.broker1, obj=book.anna, body="Answer")
    assert thread_unread_count(actor=cast.client1, obj=book.anna) == 1
    assert thread_mark_read(actor=cast.client1, obj=book.anna) == reply.pk
    assert thread_unread_count(actor=cast.client1, obj=book.anna) == 0


def test_marking_read_never_moves_the_mark_back(cast, book):
    first = message_post(actor=cast.client1, obj=book.anna, body="One")
    second = message_post(actor=cast.client1, obj=book.anna, body="Two")
    thread_mark_read(actor=cast.broker1, obj=book.anna)
    thread_mark_read(actor=cast.broker1, obj=book.anna, up_to=first.pk)
    assert ThreadRead.objects.get(user=cast.broker1).last_read_message_id == second.pk


def test_a_customer_never_gets_internal_notes_from_the_selector(cast, book):
    message_post(actor=cast.client1, obj=book.anna, body="Question")
    note = message_post(actor=cast.broker1, obj=book.anna, body="Secret note", internal=True)
    message_post(actor=cast.broker1, obj=book.anna, body="Answer")

    assert [m.body for m in thread_messages(actor=cast.client1, obj=book.anna)] == ["Question", "Answer"]
    assert [m.body for m in thread_messages(actor=cast.client1, obj=book.anna, after_id=note.pk - 1)] == ["Answer"]
    assert [m.body for m in thread_messages(actor=cast.broker1, obj=book.anna)] == ["Question", "Secret note", "Answer"]
