"""Attachments of outbox e-mails: made by a registered renderer when the mail leaves, sent by SMTP,
kept across retries, limited in size, never on an SMS, listed and downloadable on the dev outbox."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from portal.notifications import attachments, services, transports
from portal.notifications.attachments import Attachment
from portal.notifications.models import OutboxAttachment, OutboxMessage

from .test_delivery import deliver, make_due

Status = OutboxMessage.Status
pytestmark = pytest.mark.django_db
DEV_OUTBOX = reverse("notifications:dev-outbox")


class Renderer:
    """A test renderer: a small text file per call, in the language asked for; can be made to fail."""

    def __init__(self):
        self.calls = []
        self.fail_with = None
        self.size = 0

    def __call__(self, params, *, language):
        self.calls.append((params, language))
        if self.fail_with is not None:
            raise self.fail_with
        return (f"statement {params['n']} ({language})\n" + "x" * self.size).encode()


@pytest.fixture
def renderer():
    saved = dict(attachments._renderers)
    render = Renderer()
    attachments.register_attachment("tests.statement", render)
    yield render
    attachments._renderers.clear()
    attachments._renderers.update(saved)


def statement(n=7):
    return Attachment(
        renderer="tests.statement",
        params={"n": n},
        filename=f"statement-{n}.txt",
        content_type="application/octet-stream",
    )


def email_with_file(to="anna@example.com", *, user=None, files=None):
    return services.email_queue(
        to=to,
        subject="Statement ready",
        body="Your statement is attached.",
        user=user,
        attachments=files if files is not None else [statement()],
    )


def files_of(received):
    return [(part.get_filename(), part.get_content_type(), part.get_content()) for part in received.iter_attachments()]


def test_an_email_carries_its_attachment_through_smtp(smtp_settings, renderer):
    message = email_with_file()

    assert deliver(message) == Status.SENT

    [received] = smtp_settings.messages
    assert received.get_body(("plain",)).get_content().strip() == "Your statement is attached."
    assert files_of(received) == [("statement-7.txt", "application/octet-stream", b"statement 7 (en)\n")]
    assert OutboxAttachment.objects.get(message=message).size == len("statement 7 (en)\n")


def test_the_file_is_made_in_the_recipients_language(smtp_settings, renderer, cast):
    cast.client1.language = "de"
    cast.client1.save(update_fields=["language"])

    deliver(email_with_file(cast.client1.email, user=cast.client1))

    assert renderer.calls == [({"n": 7}, "de")]


def test_an_smtp_failure_is_retried_and_the_retry_still_carries_the_attachment(smtp_settings, renderer):
    message = email_with_file()
    smtp_settings.fail_next(451)

    assert deliver(message) == Status.PENDING
    make_due(message)
    assert deliver(message) == Status.SENT

    [received] = smtp_settings.messages
    assert files_of(received) == [("statement-7.txt", "application/octet-stream", b"statement 7 (en)\n")]
    assert len(renderer.calls) == 2  # made again for the retry, nothing kept in between


def test_a_renderer_that_fails_leaves_the_message_for_a_later_try(smtp_settings, renderer):
    message = email_with_file()
    renderer.fail_with = ConnectionError("database briefly away")

    assert deliver(message) == Status.PENDING
    assert "Attachment could not be made" in message.last_error and message.send_started_at is None
    renderer.fail_with = None
    make_due(message)

    assert deliver(message) == Status.SENT
    assert len(smtp_settings.messages) == 1


def test_a_file_over_the_size_limit_fails_the_message_for_good(smtp_settings, renderer, settings):
    settings.PORTAL_OUTBOX_ATTACHMENT_MAX_BYTES = 1000
    renderer.size = 1000
    message = email_with_file()

    assert deliver(message) == Status.FAILED
    assert "too large" in message.last_error
    assert smtp_settings.messages == []


def test_files_over_the_limit_together_fail_the_message(smtp_settings, renderer, settings):
    settings.PORTAL_OUTBOX_ATTACHMENT_MAX_BYTES = 1000
    renderer.size = 600
    message = email_with_file(files=[statement(1), statement(2)])

    assert deliver(message) == Status.FAILED
    assert "together" in message.last_error
    assert smtp_settings.messages == []


@pytest.mark.parametrize(
    ("files", "error"),
    [
        ([Attachment(renderer="tests.nobody", filename="a.pdf")], "No attachment renderer"),
        ([Attachment(renderer="tests.statement", filename="../etc/passwd")], "safe attachment file name"),
        ([statement(n) for n in range(6)], "At most 5"),
    ],
)
def test_a_bad_attachment_is_refused_before_anything_is_written(renderer, files, error):
    with pytest.raises(ValueError, match=error):
        email_with_file(files=files)

    assert OutboxMessage.objects.count() == 0 and OutboxAttachment.objects.count() == 0


def test_an_sms_never_carries_attachments(renderer):
    with pytest.raises(ValueError, match="SMS cannot"):
        attachments.attachments_check([statement()], channel=OutboxMessage.Channel.SMS)
    sms = services.sms_queue(to="+4915112345678", body="Hello")
    with pytest.raises(transports.Rejected):
        transports.twilio_send(sms, body="Hello", attachments=[("a.txt", b"a", "text/plain")])


def test_a_bad_address_with_an_attachment_still_gets_the_clear_error(renderer):
    with pytest.raises(ValidationError):
        email_with_file("not-an-address")
    assert OutboxAttachment.objects.count() == 0


def test_a_repeated_queue_under_one_key_keeps_one_set_of_files(renderer):
    first = services.email_queue(
        to="anna@example.com", subject="S", body="B", idempotency_key="k1", attachments=[statement()]
    )
    again = services.email_queue(
        to="anna@example.com", subject="S", body="B", idempotency_key="k1", attachments=[statement()]
    )

    assert first.pk == again.pk
    assert OutboxAttachment.objects.filter(message=first).count() == 1


@pytest.fixture
def dev_outbox_on(settings):
    settings.DEBUG = True
    settings.PORTAL_DEV_OUTBOX = True
    settings.PORTAL_EMAIL_TRANSPORT = "dev"
    return settings


def download_url(message):
    attachment = OutboxAttachment.objects.get(message=message)
    return reverse("notifications:dev-outbox-attachment", args=[message.pk, attachment.pk])


class TestDevOutbox:
    def test_the_page_lists_the_attachment_and_its_recipient_downloads_it(
        self, dev_outbox_on, renderer, cast, login_as
    ):
        message = email_with_file(cast.client1.email, user=cast.client1)
        deliver(message)
        client = login_as(cast.client1)

        page = client.get(DEV_OUTBOX)
        response = client.get(download_url(message))

        assert "statement-7.txt" in page.text and download_url(message) in page.text
        assert response.status_code == 200
        assert response.content == b"statement 7 (en)\n"
        assert response["Content-Disposition"] == 'attachment; filename="statement-7.txt"'
        assert response["X-Content-Type-Options"] == "nosniff"

    def test_staff_may_download_it_and_anyone_else_gets_404(self, dev_outbox_on, renderer, cast, login_as):
        message = email_with_file(cast.client1.email, user=cast.client1)

        assert login_as(cast.backoffice).get(download_url(message)).status_code == 200
        assert login_as(cast.client2).get(download_url(message)).status_code == 404

    def test_an_attachment_asked_for_under_another_message_is_404(self, dev_outbox_on, renderer, cast, login_as):
        mine = email_with_file(cast.client1.email, user=cast.client1)
        other = email_with_file(cast.client2.email, user=cast.client2)
        foreign = OutboxAttachment.objects.get(message=other)

        url = reverse("notifications:dev-outbox-attachment", args=[mine.pk, foreign.pk])
        assert login_as(cast.client1).get(url).status_code == 404

    def test_downloads_do_not_exist_without_the_dev_outbox(self, dev_outbox_on, renderer, cast, login_as):
        message = email_with_file(cast.client1.email, user=cast.client1)
        dev_outbox_on.PORTAL_DEV_OUTBOX = False

        assert login_as(cast.client1).get(download_url(message)).status_code == 404

    @pytest.mark.parametrize("count", [3, 30])
    def test_the_page_with_attachments_needs_a_bounded_number_of_queries(
        self, dev_outbox_on, renderer, cast, login_as, django_assert_max_num_queries, count
    ):
        for _ in range(count):
            email_with_file(cast.client1.email, user=cast.client1)
        client = login_as(cast.client1)

        with django_assert_max_num_queries(8):
            assert client.get(DEV_OUTBOX).status_code == 200
