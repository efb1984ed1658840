"""The Client thread kind (clients/threads.py): who is on which side, and the client's data export."""

import pytest

from clients import threads
from portal.threads.services import message_post

from .conftest import pdf_upload

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("who", "read", "write", "staff"),
    [
        ("client1", True, True, False),
        ("broker1", True, True, True),
        ("manager", True, True, True),
        ("backoffice", True, False, True),
        ("broker2", False, False, False),
        ("broker3", False, False, False),
        ("client2", False, False, False),
        ("outsider", False, False, False),
    ],
)
def test_each_role_gets_its_side_of_annas_conversation(cast, book, who, read, write, staff):
    actor = getattr(cast, who)
    assert threads.client_thread_can_read(actor, book.anna) is read
    assert threads.client_thread_can_write(actor, book.anna) is write
    assert threads.client_thread_is_staff_side(actor, book.anna) is staff


def test_a_broker_the_client_is_shared_with_joins_the_staff_side(cast, book):
    from clients.services import client_share

    client_share(actor=cast.manager, client=book.anna, broker=cast.broker2)
    assert threads.client_thread_can_write(cast.broker2, book.anna)
    assert threads.client_thread_is_staff_side(cast.broker2, book.anna)


def test_links_lead_each_side_to_its_page(cast, book):
    assert threads.client_thread_url(book.anna, cast.client1) == "/client/adviser/#thread"
    assert threads.client_thread_url(book.anna, cast.broker1) == f"/broker/clients/{book.anna.pk}/#thread"


def test_the_data_export_holds_the_conversation_without_internal_notes(cast, book):
    message_post(actor=cast.client1, obj=book.anna, body="My question", files=[pdf_upload("q.pdf")])
    message_post(actor=cast.broker1, obj=book.anna, body="Staff only", internal=True, files=[pdf_upload("n.pdf")])
    message_post(actor=cast.broker1, obj=book.anna, body="The answer")

    data, files = threads.client_thread_export(book.anna)

    assert [(row["author"], row["text"]) for row in data] == [("you", "My question"), ("Boris Brandt", "The answer")]
    assert [f.name.rsplit("-", 1)[-1] for f in files] == ["q.pdf"]
    assert files[0].content().startswith(b"%PDF-")
    assert "Staff only" not in repr(data)
