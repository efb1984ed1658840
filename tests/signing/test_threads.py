"""The conversation on a signature request: the client, the sending broker and back office write on
it; back office's internal notes never reach the client; anyone else finds no thread at all."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from portal.threads.models import Message
from portal.threads.services import message_post

from .test_inbox import signed

pytestmark = pytest.mark.django_db


def messages_url(request) -> str:
    content_type = ContentType.objects.get_for_model(request)
    return reverse("threads:messages", args=[content_type.pk, request.pk])


def test_back_office_notes_stay_on_the_staff_side_and_answers_reach_the_client(cast, book, login_as):
    request = signed(cast, book.anna)
    message_post(actor=cast.client1, obj=request, body="I signed from my phone, is that fine?")
    message_post(actor=cast.backoffice, obj=request, body="IBAN checked against the register", internal=True)
    message_post(actor=cast.backoffice, obj=request, body="Yes, your signature is complete.")

    client_page = login_as(cast.client1).get(reverse("signing:inbox-detail", args=[request.pk])).content.decode()
    assert "Yes, your signature is complete." in client_page
    assert "IBAN checked against the register" not in client_page
    poll = login_as(cast.client1).get(messages_url(request), {"after": 0}).content.decode()
    assert "IBAN checked" not in poll

    backoffice_page = login_as(cast.backoffice).get(reverse("signing:backoffice-detail", args=[request.pk]))
    assert "IBAN checked against the register" in backoffice_page.content.decode()
    broker_page = login_as(cast.broker1).get(reverse("signing:request-detail", args=[request.pk])).content.decode()
    assert "IBAN checked against the register" in broker_page and "I signed from my phone" in broker_page


@pytest.mark.parametrize("who", ["broker3", "client2", "partner", "outsider"])
def test_nobody_else_reaches_the_thread_of_a_request(cast, book, login_as, who):
    request = signed(cast, book.anna)
    message_post(actor=cast.broker1, obj=request, body="Please keep the original.")
    client = login_as(getattr(cast, who))
    assert client.get(messages_url(request)).status_code == 404
    assert client.post(messages_url(request), {"body": "hello"}).status_code == 404
    assert Message.objects.count() == 1


def test_the_client_cannot_write_an_internal_note(cast, book, login_as):
    request = signed(cast, book.anna)
    answer = login_as(cast.client1).post(messages_url(request), {"body": "note?", "internal": "on"})
    assert answer.status_code in (403, 422)
    assert not Message.objects.filter(internal=True).exists()
