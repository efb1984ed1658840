"""The pages: a broker writes, previews and sends; the client reads, asks for a code and signs; the back office hands over."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from portal.audit.models import AuditEvent
from portal.notifications.models import OutboxMessage
from signing.models import SignatureAttachment, SignatureRequest, SigningChallenge

from .conftest import IBAN, code_from, opened, pdf_bytes, png_bytes, request_code, sign, transfer

pytestmark = pytest.mark.django_db
Status = SignatureRequest.Status


def transfer_form(book, **changes):
    data = {
        "kind": "fund_transfer",
        "recipient": str(book.anna.pk),
        "title": "",
        "amount": "1250.00",
        "currency": "EUR",
        "portfolio_reference": "P1",
        "payee_name": "Max Mustermann",
        "payee_iban": "DE89 3704 0044 0532 0130 00",
        "payment_reference": "Deposit",
        "message": "As discussed.",
        "attachments": [SimpleUploadedFile("order.pdf", pdf_bytes(), content_type="application/pdf")],
    }
    data.update(changes)
    return data


NEW = reverse("signing:request-create")


class TestBrokerPages:
    def test_a_broker_picks_a_kind_then_writes_a_transfer_with_an_attachment(self, cast, book, login_as):
        client = login_as(cast.broker1)
        page = client.get(NEW)
        assert page.status_code == 200 and "kind-fund_transfer" in page.text

        form = client.get(f"{NEW}?kind=fund_transfer")
        assert "Anna Albers (C1001)" in form.text and "Bert Brandt (C1002)" in form.text
        assert "Dora Dietrich" not in form.text  # another firm's client
        response = client.post(f"{NEW}?kind=fund_transfer", transfer_form(book))

        created = SignatureRequest.objects.get()
        assert response.status_code == 302 and response.url == reverse("signing:request-detail", args=[created.pk])
        assert (created.status, created.payee_iban, created.attachments.count()) == (Status.DRAFT, IBAN, 1)
        detail = client.get(response.url)
        assert "Draft saved" in detail.text and created.fingerprint in detail.text

    def test_the_portfolio_list_follows_the_chosen_client(self, cast, book, login_as):
        client = login_as(cast.broker1)
        anna = client.get(reverse("signing:request-accounts"), {"recipient": book.anna.pk}, HTTP_HX_REQUEST="true")
        dora = client.get(reverse("signing:request-accounts"), {"recipient": book.dora.pk}, HTTP_HX_REQUEST="true")
        assert 'value="P1"' in anna.text and "P1X" not in anna.text  # closed portfolios are not offered
        assert 'value="P3"' not in dora.text  # not broker1's client: no portfolios at all

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"payee_iban": "DE89 3704 0044 0532 0130 01"}, "check digits do not match"),
            ({"amount": "-1"}, "greater than or equal to 0.01"),
            ({"recipient": "999999"}, "Select a valid choice"),
            ({"portfolio_reference": "P2"}, "Select a valid choice"),
            (
                {
                    "attachments": [
                        SimpleUploadedFile("invoice.pdf", b"<html>no</html>", content_type="application/pdf")
                    ]
                },
                "invoice.pdf is not a PDF, PNG or JPEG file.",
            ),
        ],
    )
    def test_bad_input_shows_a_clear_error_and_writes_nothing(self, cast, book, login_as, changes, message):
        response = login_as(cast.broker1).post(f"{NEW}?kind=fund_transfer", transfer_form(book, **changes))
        assert response.status_code == 400
        assert message in response.text
        assert not SignatureRequest.objects.exists()
        assert not SignatureAttachment.objects.exists()

    def test_an_attachment_over_the_limit_answers_413_and_writes_nothing(self, cast, book, login_as, settings):
        settings.SIGNING_MAX_ATTACHMENT_BYTES = 2000
        big = SimpleUploadedFile("big.pdf", pdf_bytes() + b"%" * 3000, content_type="application/pdf")
        response = login_as(cast.broker1).post(f"{NEW}?kind=fund_transfer", transfer_form(book, attachments=[big]))
        assert response.status_code == 413
        assert "big.pdf" in response.text
        assert not SignatureRequest.objects.exists()

    def test_a_body_larger_than_any_allowed_upload_is_refused_before_it_is_read(self, cast, book, login_as, settings):
        settings.SIGNING_MAX_ATTACHMENT_BYTES = 100
        settings.SIGNING_MAX_ATTACHMENTS = 1
        response = login_as(cast.broker1).post(
            f"{NEW}?kind=fund_transfer", transfer_form(book), CONTENT_LENGTH=str(5 * 1024 * 1024)
        )
        assert response.status_code == 413
        assert not SignatureRequest.objects.exists()

    def test_the_preview_shows_what_the_client_will_see_in_the_clients_language(self, cast, book, login_as):
        cast.client1.language = "de"
        cast.client1.save()
        request = transfer(cast.broker1, book.anna, send=False)
        broker = login_as(cast.broker1)
        preview = broker.get(reverse("signing:request-preview", args=[request.pk]))
        assert preview.status_code == 200
        assert request.fingerprint in preview.text
        assert "1.250,00 EUR" in preview.text  # German number format, as the client reads it
        assert "DE89 3704 0044 0532 0130 00" in preview.text

        broker.post(reverse("signing:request-send", args=[request.pk]))
        client_page = login_as(cast.client1).get(reverse("signing:inbox-detail", args=[request.pk]))

        def content(html):
            return re.search(r'<article class="card" data-testid="client-content">.*?</article>', html, re.S).group(0)

        assert content(preview.text).replace("\n", "") == content(client_page.text).replace("\n", "")

    def test_send_edit_and_cancel_from_the_status_page_with_history(self, cast, book, login_as):
        request = transfer(cast.broker1, book.anna, send=False)
        broker = login_as(cast.broker1)
        broker.post(reverse("signing:request-send", args=[request.pk]))
        edit = broker.post(
            reverse("signing:request-edit", args=[request.pk]),
            {
                "recipient": str(book.anna.pk),
                "title": "Transfer",
                "amount": "1300.00",
                "currency": "EUR",
                "portfolio_reference": "P1",
                "payee_name": "Max Mustermann",
                "payee_iban": IBAN,
                "payment_reference": "",
                "message": "",
            },
        )
        assert edit.status_code == 302
        broker.post(reverse("signing:request-cancel", args=[request.pk]), {"reason": "Wrong amount"})

        page = broker.get(reverse("signing:request-detail", args=[request.pk]))
        assert page.context["req"].status == Status.CANCELLED
        history = page.text[page.text.index('data-testid="history"') :]
        for label in ("Draft created", "Sent to the client", "Content changed", "Cancelled"):
            assert label in history

    def test_attachments_are_added_and_removed_on_the_status_page(self, cast, book, login_as):
        request = transfer(cast.broker1, book.anna, send=False)
        broker = login_as(cast.broker1)
        old_hash = request.content_hash
        png = SimpleUploadedFile("scan.png", png_bytes(), content_type="image/png")
        broker.post(reverse("signing:attachment-add", args=[request.pk]), {"file": png})
        request.refresh_from_db()
        assert request.attachments.count() == 2 and request.content_hash != old_hash

        bad = SimpleUploadedFile("x.png", b"GIF89a....", content_type="image/png")
        response = broker.post(reverse("signing:attachment-add", args=[request.pk]), {"file": bad}, follow=True)
        assert "x.png is not a PDF, PNG or JPEG file." in response.text
        assert request.attachments.count() == 2

        scan = request.attachments.get(name="scan.png")
        broker.post(reverse("signing:attachment-remove", args=[request.pk, scan.pk]))
        request.refresh_from_db()
        assert request.attachments.count() == 1 and request.content_hash == old_hash


class TestClientPages:
    def test_the_client_reads_asks_for_a_code_and_signs(self, cast, book, login_as):
        request = transfer(cast.broker1, book.anna)
        client = login_as(cast.client1)

        inbox = client.get(reverse("signing:inbox"))
        assert request.title in inbox.text
        page = client.get(reverse("signing:inbox-detail", args=[request.pk]))
        assert page.status_code == 200
        assert request.fingerprint in page.text and "Max Mustermann" in page.text
        assert SignatureRequest.objects.get(pk=request.pk).status == Status.VIEWED

        panel = client.post(
            reverse("signing:code-request", args=[request.pk]),
            {"content_hash": request.content_hash},
            HTTP_HX_REQUEST="true",
        )
        assert panel.status_code == 200
        assert 'data-delivery="pending"' in panel.text and "Sending the code" in panel.text
        assert 'hx-trigger="every 2s"' in panel.text
        code = code_from(OutboxMessage.objects.get(event="signing.code"))

        signed = client.post(
            reverse("signing:sign", args=[request.pk]),
            {"code": code, "content_hash": request.content_hash},
            follow=True,
        )
        assert "Signed. Thank you" in signed.text
        assert SignatureRequest.objects.get(pk=request.pk).status == Status.SIGNED

    def test_the_code_status_turns_to_sent_when_the_worker_delivered_it(self, cast, book, login_as):
        request = transfer(cast.broker1, book.anna)
        request_code(request, cast.client1)
        client = login_as(cast.client1)
        url = reverse("signing:code-status", args=[request.pk])
        assert 'data-delivery="pending"' in client.get(url).text
        from portal.notifications.delivery import outbox_message_deliver

        outbox_message_deliver(message_id=OutboxMessage.objects.get(event="signing.code").pk)
        status = client.get(url).text
        assert 'data-delivery="sent"' in status and "hx-trigger" not in status

    def test_a_wrong_code_tells_how_many_tries_are_left(self, cast, book, login_as):
        request = transfer(cast.broker1, book.anna)
        code = request_code(request, cast.client1)
        response = login_as(cast.client1).post(
            reverse("signing:sign", args=[request.pk]),
            {"code": "000000" if code != "000000" else "111111", "content_hash": request.content_hash},
            follow=True,
        )
        assert "Wrong code. 4 tries left for this code." in response.text
        assert SigningChallenge.objects.get().failed_attempts == 1

    def test_a_page_opened_before_a_change_cannot_be_used_to_sign(self, cast, book, login_as):
        request = transfer(cast.broker1, book.anna)
        client = login_as(cast.client1)
        client.get(reverse("signing:inbox-detail", args=[request.pk]))
        seen = SignatureRequest.objects.get(pk=request.pk).content_hash
        from signing import services

        services.signature_request_update(actor=cast.broker1, request_id=request.pk, amount="9999.00")
        response = client.post(reverse("signing:code-request", args=[request.pk]), {"content_hash": seen}, follow=True)
        assert "The request has changed since you opened it" in response.text
        assert not SigningChallenge.objects.exists()

    def test_the_client_declines_with_a_reason(self, cast, book, login_as):
        request = transfer(cast.broker1, book.anna)
        client = login_as(cast.client1)
        empty = client.post(reverse("signing:decline", args=[request.pk]), {"reason": ""}, follow=True)
        assert "Tell your broker why you decline." in empty.text
        client.post(reverse("signing:decline", args=[request.pk]), {"reason": "Not now"})
        assert SignatureRequest.objects.get(pk=request.pk).status == Status.DECLINED

    def test_the_client_sees_the_lock_instead_of_the_code_form(self, cast, book, login_as):
        from datetime import timedelta

        from django.utils import timezone

        from signing.models import SigningGuard

        request = transfer(cast.broker1, book.anna)
        SigningGuard.objects.create(user=cast.client1, locked_until=timezone.now() + timedelta(hours=3))
        page = login_as(cast.client1).get(reverse("signing:inbox-detail", args=[request.pk]))
        assert 'data-testid="locked"' in page.text and 'data-testid="request-code"' not in page.text


class TestBackOfficePages:
    def test_the_old_back_office_list_leads_to_the_work_inbox(self, cast, login_as):
        client = login_as(cast.backoffice)
        inbox = reverse("inbox:list")
        old = reverse("signing:backoffice-inbox")
        assert client.get(old)["Location"] == f"{inbox}?kind=signing.signed_request"
        assert client.get(old, {"state": "open"})["Location"] == f"{inbox}?kind=signing.signed_request"
        for state in ("processed", "returned", "all"):
            response = client.get(old, {"state": state})
            assert response.status_code == 302
            assert response["Location"] == f"{inbox}?kind=signing.signed_request&status=closed"

    def test_the_back_office_sees_evidence_and_marks_processed(self, cast, book, login_as):
        request = transfer(cast.broker1, book.anna)
        sign(request, cast.client1, request_code(request, cast.client1))
        client = login_as(cast.backoffice)

        # The signed request waits in the work inbox, linking to its back-office page.
        inbox = client.get(reverse("inbox:list"), {"kind": "signing.signed_request"})
        assert request.title in inbox.text
        assert f'href="{reverse("signing:backoffice-detail", args=[request.pk])}"' in inbox.text
        detail = client.get(reverse("signing:backoffice-detail", args=[request.pk]))
        assert request.content_hash in detail.text and "+49••••••••001" in detail.text
        empty_return = client.post(
            reverse("signing:backoffice-handle", args=[request.pk]), {"outcome": "returned", "comment": ""}, follow=True
        )
        assert "Say why the request is returned." in empty_return.text
        client.post(reverse("signing:backoffice-handle", args=[request.pk]), {"outcome": "processed", "comment": "OK"})
        assert SignatureRequest.objects.get(pk=request.pk).status == Status.PROCESSED
        assert request.title not in client.get(reverse("inbox:list")).text
        closed = client.get(reverse("inbox:list"), {"kind": "signing.signed_request", "status": "closed"}).text
        assert request.title in closed and ">Processed<" in closed

        broker_page = login_as(cast.broker1).get(reverse("signing:request-detail", args=[request.pk]))
        assert 'data-testid="status-text">Processed<' in broker_page.text
        assert AuditEvent.objects.filter(action="signing.request_processed", actor=cast.backoffice).exists()


class TestQueryBudget:
    @pytest.mark.parametrize(
        ("user", "url_name", "args"),
        [
            ("broker1", "signing:request-list", {}),
            ("manager", "signing:request-list", {"status": "sent"}),
            ("client1", "signing:inbox", {}),
            ("backoffice", "inbox:list", {"kind": "signing.signed_request"}),
        ],
    )
    def test_lists_run_the_same_number_of_queries_at_two_sizes(
        self, cast, book, login_as, django_assert_max_num_queries, user, url_name, args
    ):
        client = login_as(getattr(cast, user))

        def grow(count):
            while SignatureRequest.objects.count() < count:
                request = transfer(cast.broker1, book.anna, attachments=[])
                opened(request, cast.client1)
                if SignatureRequest.objects.count() % 2:
                    sign(request, cast.client1, request_code(request, cast.client1))
                    from signing.models import SigningCodeSend

                    SigningCodeSend.objects.update(created_at="2000-01-01T00:00:00Z")

        grow(2)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as small:
            assert client.get(reverse(url_name), args).status_code == 200
        grow(12)
        with django_assert_max_num_queries(len(small.captured_queries)):
            assert client.get(reverse(url_name), args).status_code == 200


def test_the_verify_page_says_intact_or_changed(cast, book, login_as):
    from signing import pdf

    request = transfer(cast.broker1, book.anna)
    sign(request, cast.client1, request_code(request, cast.client1))
    evidence = pdf.signed_pdf_render(request_id=request.pk)
    data = evidence.pdf.read()
    client = login_as(cast.backoffice)

    intact = client.post(reverse("signing:verify"), {"file": SimpleUploadedFile("s.pdf", data)})
    changed = client.post(reverse("signing:verify"), {"file": SimpleUploadedFile("s.pdf", data + b"\n%x")})
    empty = client.post(reverse("signing:verify"), {})

    assert 'data-outcome="intact"' in intact.text and request.short_reference in intact.text
    assert 'data-outcome="tampered"' in changed.text
    assert empty.status_code == 400


def test_an_expired_code_is_shown_as_expired_and_a_new_round_can_start(cast, book, login_as):
    from datetime import timedelta

    from django.utils import timezone

    request = transfer(cast.broker1, book.anna)
    request_code(request, cast.client1)
    OutboxMessage.objects.filter(event="signing.code").update(status="sent")
    SigningChallenge.objects.update(code_issued_at=timezone.now() - timedelta(minutes=6))
    from signing.models import SigningCodeSend

    SigningCodeSend.objects.update(created_at=timezone.now() - timedelta(minutes=6))
    client = login_as(cast.client1)

    page = client.get(reverse("signing:inbox-detail", args=[request.pk]))
    assert 'data-testid="code-expired"' in page.text and 'data-testid="sign-form"' not in page.text

    panel = client.post(
        reverse("signing:code-request", args=[request.pk]),
        {"content_hash": request.content_hash},
        HTTP_HX_REQUEST="true",
    )
    assert 'data-testid="sign-form"' in panel.text
    assert list(SigningChallenge.objects.order_by("id").values_list("status", flat=True)) == ["expired", "active"]
