"""The thread endpoints and the panel on the pages: access by the owning app's rule, internal notes
never on a customer-facing output, bad input refused with the reason, bounded queries."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from portal.accounts.models import Organisation
from portal.notifications.models import Notification, OutboxMessage
from portal.threads.models import Message, MessageAttachment, ThreadRead
from portal.threads.services import message_post

from .conftest import pdf_upload, thread_url

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
SECRET = "Suitability doubtful, do not sell equities"


@pytest.fixture
def talk(cast, book):
    """A conversation on Anna's record: her question with a file, an internal note with a file, the answer."""
    question = message_post(actor=cast.client1, obj=book.anna, body="Can we talk?", files=[pdf_upload("mine.pdf")])
    note = message_post(
        actor=cast.broker1, obj=book.anna, body=SECRET, internal=True, files=[pdf_upload("note-file.pdf", "Note")]
    )
    answer = message_post(actor=cast.broker1, obj=book.anna, body="Of course, tomorrow at ten?")
    return question, note, answer


def _endpoints(obj, talk):
    question, note, _answer = talk
    return [
        ("get", thread_url(obj), {}),
        ("get", thread_url(obj) + "?after=0", {}),
        ("get", thread_url(obj) + f"?before={note.pk + 10}", {}),
        ("post", thread_url(obj), {"body": "Hi"}),
        ("get", thread_url(obj, "attachment-download", question.attachments.get().pk), {}),
    ]


@pytest.mark.parametrize("who", ["broker2", "broker3", "client2", "client3", "partner", "merchant", "outsider"])
def test_a_foreign_user_gets_404_on_every_endpoint(cast, book, talk, login_as, who):
    http = login_as(getattr(cast, who))
    for method, url, data in _endpoints(book.anna, talk):
        assert getattr(http, method)(url, data).status_code == 404, url
    assert Message.objects.count() == 3


def test_a_visitor_is_sent_to_log_in(client, book, talk):
    for method, url, data in _endpoints(book.anna, talk):
        response = getattr(client, method)(url, data)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_object_without_a_thread_kind_or_that_does_not_exist_is_404(cast, book, login_as):
    http = login_as(cast.admin)
    organisation = ContentType.objects.get_for_model(Organisation)
    client_type = ContentType.objects.get_for_model(book.anna)
    assert http.get(f"/threads/{organisation.pk}/{cast.alpha.pk}/messages/").status_code == 404
    assert http.get(f"/threads/999999/{book.anna.pk}/messages/").status_code == 404
    assert http.get(f"/threads/{client_type.pk}/999999/messages/").status_code == 404


def test_an_attachment_of_another_objects_thread_is_404(cast, book, talk, login_as):
    other = message_post(actor=cast.client2, obj=book.bert, body="Mine", files=[pdf_upload()])
    http = login_as(cast.client1)
    url = thread_url(book.anna, "attachment-download", other.attachments.get().pk)
    assert http.get(url).status_code == 404


def test_the_customer_never_sees_an_internal_note_anywhere(cast, book, talk, login_as):
    _question, note, _answer = talk
    http = login_as(cast.client1)
    outputs = [
        http.get(reverse("clients:adviser")),
        http.get(thread_url(book.anna), **HTMX),
        http.get(thread_url(book.anna) + "?after=0"),
        http.get(thread_url(book.anna) + f"?before={note.pk + 100}"),
    ]
    for response in outputs:
        assert response.status_code == 200
        html = response.content.decode()
        assert "Of course, tomorrow at ten?" in html
        assert SECRET not in html and "note-file.pdf" not in html and "Internal note" not in html
        assert 'name="internal"' not in html
    note_file = note.attachments.get()
    assert http.get(thread_url(book.anna, "attachment-download", note_file.pk)).status_code == 404
    # Nor in what the portal told them.
    told = [n.title + n.body for n in Notification.objects.filter(user=cast.client1)]
    told += [m.subject + m.body + m.html_body for m in OutboxMessage.objects.filter(user=cast.client1)]
    assert told and not any(SECRET in text or "internal" in text.lower() for text in told)


def test_the_broker_sees_the_note_on_the_clients_page(cast, book, talk, login_as):
    _question, note, _answer = talk
    http = login_as(cast.broker1)
    html = http.get(reverse("intermediaries:client-detail", args=[book.anna.pk])).content.decode()
    assert SECRET in html and "Internal note" in html and "note-file.pdf" in html
    assert 'name="internal"' in html
    download = http.get(thread_url(book.anna, "attachment-download", note.attachments.get().pk))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith('attachment; filename="note-file.pdf"')
    assert b"".join(download.streaming_content).startswith(b"%PDF-")


def test_back_office_reads_the_thread_without_a_form(cast, book, talk, login_as):
    html = login_as(cast.backoffice).get(thread_url(book.anna)).content.decode()
    assert SECRET in html and "Can we talk?" in html
    assert 'data-testid="thread-form"' not in html
    assert login_as(cast.backoffice).post(thread_url(book.anna), {"body": "Hi"}).status_code == 403
    assert Message.objects.count() == 3


def test_the_client_writes_from_the_panel_and_gets_it_back(cast, book, login_as):
    http = login_as(cast.client1)
    response = http.post(thread_url(book.anna), {"body": "Hello there", "files": [pdf_upload("a.pdf")]}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Hello there" in html and "a.pdf" in html and 'data-testid="thread-form"' in html
    message = Message.objects.get()
    assert (message.author, message.internal) == (cast.client1, False)


def test_a_client_asking_for_an_internal_note_is_refused(cast, book, login_as):
    response = login_as(cast.client1).post(thread_url(book.anna), {"body": "x", "internal": "1"}, **HTMX)
    assert response.status_code == 403
    assert not Message.objects.exists()


def test_the_broker_writes_an_internal_note_from_the_panel(cast, book, login_as):
    response = login_as(cast.broker1).post(thread_url(book.anna), {"body": "Note", "internal": "1"}, **HTMX)
    assert response.status_code == 200
    assert Message.objects.get().internal is True
    assert 'data-testid="thread-note"' in response.content.decode()


def test_without_javascript_a_post_goes_back_to_the_page(cast, book, login_as):
    http = login_as(cast.client1)
    response = http.post(thread_url(book.anna), {"body": "Plain form"})
    assert response.status_code == 302 and response["Location"] == "/client/adviser/#thread"
    response = http.post(thread_url(book.anna), {"body": ""}, follow=True)
    assert "Write a message or attach a file." in response.content.decode()
    assert Message.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "text"),
    [
        ({"body": ""}, "Write a message or attach a file."),
        ({"body": "y" * 5001}, "at most 5000 characters"),
        ({"body": "File", "files": [SimpleUploadedFile("evil.pdf", b"<svg onload=alert(1)>hello</svg>")]}, "not a PDF"),
    ],
)
def test_bad_input_answers_422_with_the_reason_and_keeps_the_text(cast, book, login_as, data, text):
    response = login_as(cast.client1).post(thread_url(book.anna), data, **HTMX)
    assert response.status_code == 422
    html = response.content.decode()
    assert text in html and 'data-testid="thread-errors"' in html
    if data["body"]:
        assert data["body"][:50] in html
    assert not Message.objects.exists() and not MessageAttachment.objects.exists()


@pytest.mark.parametrize("query", ["?after=abc", "?after=-1", "?before=1x"])
def test_a_bad_message_number_is_400(cast, book, login_as, query):
    response = login_as(cast.client1).get(thread_url(book.anna) + query)
    assert response.status_code == 400
    assert "?after=12" in response.content.decode()


def test_the_poll_brings_only_the_new_messages_and_marks_them_read(cast, book, talk, login_as):
    _question, _note, answer = talk
    http = login_as(cast.client1)
    assert f'data-after="{answer.pk}"' in http.get(thread_url(book.anna) + f"?after={answer.pk}").content.decode()
    later = message_post(actor=cast.broker1, obj=book.anna, body="Or at eleven?")
    html = http.get(thread_url(book.anna) + f"?after={answer.pk}").content.decode()
    assert "Or at eleven?" in html and "Of course" not in html
    assert f'hx-get="{thread_url(book.anna)}?after={later.pk}"' in html and 'hx-trigger="every 10s"' in html
    assert ThreadRead.objects.get(user=cast.client1).last_read_message_id == later.pk


def test_opening_the_page_marks_the_thread_read(cast, book, talk, login_as):
    _question, _note, answer = talk
    login_as(cast.client1).get(reverse("clients:adviser"))
    assert ThreadRead.objects.get(user=cast.client1).last_read_message_id == answer.pk


def test_earlier_messages_load_on_demand(cast, book, login_as, settings):
    import portal.threads.panel as panel
    import portal.threads.views as views

    first = message_post(actor=cast.client1, obj=book.anna, body="The very first")
    for n in range(3):
        message_post(actor=cast.client1, obj=book.anna, body=f"Message {n}")
    original = panel.MESSAGES_SHOWN
    panel.MESSAGES_SHOWN = views.MESSAGES_SHOWN = 2
    try:
        http = login_as(cast.broker1)
        html = http.get(thread_url(book.anna)).content.decode()
        assert "The very first" not in html and 'data-testid="thread-earlier"' in html
        earlier = http.get(thread_url(book.anna) + f"?before={first.pk + 3}").content.decode()
        assert "Message 0" in earlier and 'data-testid="thread-earlier"' in earlier
    finally:
        panel.MESSAGES_SHOWN = views.MESSAGES_SHOWN = original


def _conversation(cast, obj, size: int):
    for n in range(size):
        files = [pdf_upload(f"f{n}.pdf")] if n % 3 == 0 else []
        message_post(actor=cast.client1, obj=obj, body=f"Question {n}", files=files)
        message_post(actor=cast.broker1, obj=obj, body=f"Note {n}", internal=True)


@pytest.mark.parametrize("size", [2, 20])
def test_the_fragment_and_the_poll_run_a_bounded_number_of_queries(
    cast, book, login_as, django_assert_max_num_queries, size
):
    _conversation(cast, book.anna, size)
    for user in (cast.client1, cast.broker1):
        http = login_as(user)
        http.get(thread_url(book.anna))  # the session and read state settle
        message_post(actor=cast.client1, obj=book.anna, body="One more")
        with django_assert_max_num_queries(12):
            assert http.get(thread_url(book.anna), **HTMX).status_code == 200
        with django_assert_max_num_queries(12):
            assert http.get(thread_url(book.anna) + "?after=0").status_code == 200


@pytest.mark.parametrize("size", [2, 20])
def test_the_pages_with_the_thread_run_a_bounded_number_of_queries(
    cast, book, login_as, django_assert_max_num_queries, size
):
    _conversation(cast, book.anna, size)
    for user, url, budget in (
        (cast.client1, reverse("clients:adviser"), 10),
        (cast.broker1, reverse("intermediaries:client-detail", args=[book.anna.pk]), 16),
    ):
        http = login_as(user)
        http.get(url)
        message_post(actor=cast.client1, obj=book.anna, body="One more")
        with django_assert_max_num_queries(budget):
            assert http.get(url).status_code == 200
