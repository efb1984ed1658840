"""The request's life through the services: write, send, read, code, sign, decline, hand over, expire."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.utils import timezone

from portal.audit.models import AuditEvent
from portal.notifications.delivery import outbox_message_deliver
from portal.notifications.models import Notification, OutboxMessage
from signing import events, services
from signing.models import (
    SignatureEvidence,
    SignatureRequest,
    SigningChallenge,
    SigningFailure,
    SigningGuard,
)

from .conftest import (
    IBAN,
    a_minute_passes,
    code_from,
    document,
    opened,
    request_code,
    sign,
    sms_text,
    transfer,
    upload,
    wrong,
)

pytestmark = pytest.mark.django_db
Status = SignatureRequest.Status


def actions(request) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_type="signing.signaturerequest", object_id=str(request.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


class TestWriting:
    def test_a_broker_writes_a_draft_transfer_with_the_portfolio_and_iban_from_the_book(self, cast, book):
        request = transfer(cast.broker1, book.anna, send=False, payee_iban="de89 3704 0044 0532 0130 00")

        assert request.status == Status.DRAFT
        assert request.recipient == cast.client1
        assert request.recipient_label == "Anna Albers (C1001)"
        assert (request.portfolio_reference, request.portfolio_label) == ("P1", "Depot P1 (P1)")
        assert request.payee_iban == IBAN
        assert request.amount == Decimal("1250.00")
        assert request.title == "Transfer of 1250.00 EUR to Max Mustermann"
        assert request.organisation == cast.alpha
        [attachment] = request.attachments.all()
        assert (attachment.name, attachment.content_type) == ("order.pdf", "application/pdf")
        assert len(request.content_hash) == 64
        assert actions(request) == ["signing.request_created"]

    def test_it_refuses_a_client_outside_the_brokers_book_and_writes_nothing(self, cast, book):
        for client in (book.dora, book.carla):  # another firm's client; a colleague's client
            with pytest.raises(ValidationError) as error:
                transfer(cast.broker1, client, send=False)
            assert "recipient" in error.value.message_dict
        assert not SignatureRequest.objects.exists()

    def test_it_refuses_a_client_without_a_portal_login(self, cast, book):
        with pytest.raises(ValidationError) as error:
            transfer(cast.broker2, book.carla, send=False)
        assert error.value.message_dict["recipient"] == ["Choose one of your clients."]

    def test_a_firm_manager_may_write_for_the_firms_clients(self, cast, book):
        request = transfer(cast.manager, book.anna, send=False)
        assert request.sender == cast.manager

    @pytest.mark.parametrize("user", ["client1", "backoffice", "outsider", "partner"])
    def test_only_brokers_and_managers_write_requests(self, cast, book, user):
        with pytest.raises(PermissionDenied):
            transfer(getattr(cast, user), book.anna, send=False)

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("payee_iban", "DE89370400440532013001", "check digits"),
            ("payee_iban", "DE8937040044053201300", "has 22 characters"),
            ("payee_iban", "XX89370400440532013000", "not accepted"),
            ("payee_iban", "not an iban", "Enter an IBAN"),
            ("amount", "0", "more than zero"),
            ("amount", "-5", "more than zero"),
            ("amount", "12.345", "two decimal places"),
            ("amount", "abc", "Enter an amount"),
            ("currency", "XXX", "Choose a currency"),
            ("portfolio_reference", "P2", "client's portfolios"),  # Bert's portfolio, not Anna's
            ("portfolio_reference", "P1X", "client's portfolios"),  # closed
            ("payee_name", "", "required"),
        ],
    )
    def test_bad_transfer_fields_are_refused_with_a_clear_message_and_nothing_is_written(
        self, cast, book, field, value, message
    ):
        with pytest.raises(ValidationError) as error:
            transfer(cast.broker1, book.anna, send=False, **{field: value})
        assert message in " ".join(error.value.message_dict[field])
        assert not SignatureRequest.objects.exists()

    def test_a_document_request_needs_a_text(self, cast, book):
        with pytest.raises(ValidationError) as error:
            document(cast.broker1, book.anna, send=False, message="  ")
        assert "message" in error.value.message_dict

    def test_a_subscription_names_the_product_and_the_portfolio(self, cast, book):
        request = services.signature_request_create(
            actor=cast.broker1,
            recipient=str(book.bert.pk),
            kind="product_subscription",
            product_name="Alpha Global Equity Fund",
            amount="25000",
            currency="USD",
            portfolio_reference="P2",
        )
        assert request.title == "Subscription: Alpha Global Equity Fund"
        assert request.portfolio_label == "Depot P2 (P2)"
        assert request.payee_iban == ""

    def test_a_bad_attachment_refuses_the_whole_request(self, cast, book):
        bad = upload("invoice.pdf", b"MZ\x90\x00 this is a Windows program")
        with pytest.raises(ValidationError) as error:
            transfer(cast.broker1, book.anna, send=False, attachments=[upload(), bad])
        assert "invoice.pdf is a program, not a document." in error.value.message_dict["attachments"]
        assert not SignatureRequest.objects.exists()


class TestSending:
    def test_sending_notifies_the_client_and_sets_a_deadline(self, cast, book, django_capture_on_commit_callbacks):
        received = []
        events.request_sent.connect(lambda sender, request, **kw: received.append(request.pk), weak=False)
        request = transfer(cast.broker1, book.anna, send=False)

        with django_capture_on_commit_callbacks(execute=True):
            services.signature_request_send(actor=cast.broker1, request_id=request.pk)

        request.refresh_from_db()
        assert request.status == Status.SENT
        assert request.expires_at - request.sent_at == timedelta(days=14)
        note = Notification.objects.get(user=cast.client1, event="signing.request_received")
        assert note.link_url == f"/client/sign/{request.pk}/"
        assert "Please sign" in note.title
        assert OutboxMessage.objects.filter(
            user=cast.client1, event="signing.request_received", channel="email"
        ).exists()
        # SMS only if the client chose it.
        assert not OutboxMessage.objects.filter(
            user=cast.client1, event="signing.request_received", channel="sms"
        ).exists()
        assert received == [request.pk]
        assert actions(request) == ["signing.request_created", "signing.request_sent"]

    def test_a_client_without_a_mobile_number_cannot_be_sent_a_request(self, cast, book):
        cast.client1.phone = ""
        cast.client1.save()
        request = transfer(cast.broker1, book.anna, send=False)
        with pytest.raises(ValidationError) as error:
            services.signature_request_send(actor=cast.broker1, request_id=request.pk)
        assert error.value.code == "no_phone"
        assert SignatureRequest.objects.get(pk=request.pk).status == Status.DRAFT

    def test_a_request_is_sent_only_once(self, cast, book):
        request = transfer(cast.broker1, book.anna)
        with pytest.raises(ValidationError):
            services.signature_request_send(actor=cast.broker1, request_id=request.pk)

    def test_a_colleague_cannot_send_or_cancel_and_another_firm_does_not_see_it(self, cast, book):
        request = transfer(cast.broker1, book.anna, send=False)
        with pytest.raises(Http404):
            services.signature_request_send(actor=cast.broker2, request_id=request.pk)
        with pytest.raises(Http404):
            services.signature_request_cancel(actor=cast.broker3, request_id=request.pk)
        assert SignatureRequest.objects.get(pk=request.pk).status == Status.DRAFT

    def test_the_firm_manager_can_cancel_a_brokers_request(self, cast, book):
        request = transfer(cast.broker1, book.anna)
        services.signature_request_cancel(actor=cast.manager, request_id=request.pk, reason="Duplicate")
        request.refresh_from_db()
        assert (request.status, request.cancel_reason) == (Status.CANCELLED, "Duplicate")
        assert Notification.objects.filter(user=cast.client1, event="signing.request_cancelled").exists()


class TestContentBinding:
    def test_changing_a_sent_request_voids_the_code_and_the_client_must_read_it_again(self, cast, book):
        request = transfer(cast.broker1, book.anna)
        code = request_code(request, cast.client1)
        old_hash = SignatureRequest.objects.get(pk=request.pk).content_hash

        services.signature_request_update(actor=cast.broker1, request_id=request.pk, amount="1350.00")

        request.refresh_from_db()
        assert request.content_hash != old_hash
        assert request.status == Status.SENT  # back from viewed: the new content was not read yet
        assert SigningChallenge.objects.get(request=request).status == SigningChallenge.Status.VOID
        for content_hash in (old_hash, request.content_hash):
            with pytest.raises(ValidationError) as error:
                services.signature_request_sign(
                    actor=cast.client1, request_id=request.pk, code=code, content_hash=content_hash
                )
            assert error.value.code in ("no_code", "content_changed")
        assert not SignatureEvidence.objects.exists()
        assert Notification.objects.filter(user=cast.client1, event="signing.request_changed").exists()
        assert "signing.request_changed" in actions(request)

    def test_an_added_attachment_voids_the_code(self, cast, book):
        request = transfer(cast.broker1, book.anna)
        code = request_code(request, cast.client1)

        services.signature_attachment_add(actor=cast.broker1, request_id=request.pk, upload=upload("more.pdf"))

        with pytest.raises(ValidationError):
            sign(request, cast.client1, code)
        assert SignatureRequest.objects.get(pk=request.pk).status == Status.SENT

    def test_a_code_request_for_content_the_client_has_not_seen_is_refused(self, cast, book):
        request = transfer(cast.broker1, book.anna)
        seen = opened(request, cast.client1).content_hash
        services.signature_request_update(actor=cast.broker1, request_id=request.pk, payee_name="Erika Musterfrau")

        with pytest.raises(ValidationError) as error:
            services.signing_code_request(actor=cast.client1, request_id=request.pk, content_hash=seen)

        assert error.value.code == "content_changed"
        assert not SigningChallenge.objects.exists()

    def test_the_stored_file_changed_behind_our_back_means_nobody_signs(self, cast, book):
        request = transfer(cast.broker1, book.anna)
        code = request_code(request, cast.client1)
        attachment = request.attachments.get()
        with open(attachment.file.path, "ab") as handle:
            handle.write(b"tampered")

        with pytest.raises(ValidationError) as error:
            sign(request, cast.client1, code)

        assert error.value.code == "integrity"
        assert SignatureRequest.objects.get(pk=request.pk).status == Status.VIEWED
        assert "signing.integrity_failed" in actions(request)


class TestSigning:
    def test_the_right_code_signs_once_with_evidence_and_everyone_is_told(
        self, cast, book, django_capture_on_commit_callbacks
    ):
        signed = []
        events.request_signed.connect(lambda sender, request, **kw: signed.append(request.pk), weak=False)
        request = transfer(cast.broker1, book.anna)
        code = request_code(request, cast.client1)
        challenge = SigningChallenge.objects.get(request=request)
        assert code not in challenge.code_hash and len(challenge.code_hash) == 64
        [sms] = OutboxMessage.objects.filter(event="signing.code")
        assert outbox_message_deliver(message_id=sms.pk) == "sent"  # what the worker does

        with django_capture_on_commit_callbacks(execute=True):
            evidence = sign(request, cast.client1, code)

        request.refresh_from_db()
        evidence.refresh_from_db()
        assert request.status == Status.SIGNED
        assert evidence.signer == cast.client1
        assert evidence.content_hash == request.content_hash
        assert evidence.masked_phone == "+49••••••••001"
        assert evidence.challenge == challenge
        assert evidence.content["transfer"]["payee_iban"] == IBAN
        assert evidence.content["attachments"][0]["sha256"] == request.attachments.get().sha256
        assert evidence.pdf and len(evidence.pdf_sha256) == 64  # rendered on commit (eager Celery)
        assert signed == [request.pk]
        assert Notification.objects.filter(user=cast.broker1, event="signing.request_signed").exists()
        assert Notification.objects.filter(user=cast.backoffice, event="signing.backoffice_received").exists()
        assert Notification.objects.filter(user=cast.admin, event="signing.backoffice_received").exists()
        # The code is gone from the outbox (and from the dev transport's copy) once it was used.
        sms.refresh_from_db()
        assert sms.secret == "" and code not in sms.body
        assert code not in sms_text(sms) and "••••••" in sms_text(sms)
        assert evidence.sms_message_id == sms.provider_message_id == f"dev-{sms.pk}"
        with pytest.raises(ValidationError) as error:
            sign(request, cast.client1, code)
        assert error.value.code == "already_signed"
        assert SignatureEvidence.objects.count() == 1
        assert actions(request)[-4:] == [
            "signing.request_viewed",
            "signing.code_sent",
            "signing.request_signed",
            "signing.pdf_rendered",
        ]

    def test_the_sms_names_amount_and_payee_for_a_transfer_and_the_title_otherwise(self, cast, book):
        transfer_request = transfer(cast.broker1, book.anna, amount="12500.50")
        profile = document(cast.broker1, book.bert, title="Updated investor profile")

        request_code(transfer_request, cast.client1)
        request_code(profile, cast.client2)

        first, second = OutboxMessage.objects.filter(event="signing.code").order_by("id")
        assert first.recipient == "+4915112345001"
        assert "12,500.50 EUR" in sms_text(first) and "Max Mustermann" in sms_text(first)
        assert "“Updated investor profile”" in sms_text(second)

    def test_the_sms_speaks_the_clients_language(self, cast, book):
        cast.client1.language = "de"
        cast.client1.save()
        request = transfer(cast.broker1, book.anna, amount="12500.50")

        code = request_code(request, cast.client1)

        body = sms_text(OutboxMessage.objects.get(event="signing.code"))
        assert body.startswith(f"Partnerzone: Code {code} unterschreibt Ihre Überweisung von 12.500,50 EUR")
        assert "Max Mustermann" in body

    def test_a_code_works_for_five_minutes(self, cast, book):
        request = transfer(cast.broker1, book.anna)
        code = request_code(request, cast.client1)
        SigningChallenge.objects.update(code_issued_at=timezone.now() - timedelta(minutes=5, seconds=1))

        with pytest.raises(ValidationError) as error:
            sign(request, cast.client1, code)

        assert error.value.code == "code_expired"
        assert SigningChallenge.objects.get().status == SigningChallenge.Status.EXPIRED

    def test_a_code_counts_from_when_its_sms_left_not_from_when_it_was_queued(self, cast, book):
        request = transfer(cast.broker1, book.anna)
        code = request_code(request, cast.client1)
        now = timezone.now()
        SigningChallenge.objects.update(code_issued_at=now - timedelta(minutes=8))
        OutboxMessage.objects.filter(event="signing.code").update(
            status="sent", send_started_at=now - timedelta(minutes=1)
        )

        sign(request, cast.client1, code)

        assert SignatureRequest.objects.get(pk=request.pk).status == Status.SIGNED

    def test_a_malformed_code_is_refused_without_counting(self, cast, book):
        request = transfer(cast.broker1, book.anna)
        request_code(request, cast.client1)
        with pytest.raises(ValidationError) as error:
            sign(request, cast.client1, "12ab56")
        assert error.value.code == "code_format"
        assert SigningChallenge.objects.get().failed_attempts == 0

    def test_the_client_declines_with_a_reason(self, cast, book):
        request = transfer(cast.broker1, book.anna)
        with pytest.raises(ValidationError):
            services.signature_request_decline(actor=cast.client1, request_id=request.pk, reason=" ")

        services.signature_request_decline(actor=cast.client1, request_id=request.pk, reason="Not now.")

        request.refresh_from_db()
        assert (request.status, request.decline_reason) == (Status.DECLINED, "Not now.")
        assert Notification.objects.filter(user=cast.broker1, event="signing.request_declined").exists()
        with pytest.raises(ValidationError):
            request_code(request, cast.client1)

    def test_another_client_cannot_ask_for_a_code_sign_or_decline(self, cast, book):
        request = transfer(cast.broker1, book.anna)
        code = request_code(request, cast.client1)
        for call in (
            lambda: services.signing_code_request(actor=cast.client2, request_id=request.pk, content_hash=""),
            lambda: sign(request, cast.client2, code),
            lambda: services.signature_request_decline(actor=cast.client2, request_id=request.pk, reason="x"),
        ):
            with pytest.raises(Http404):
                call()
        assert SignatureRequest.objects.get(pk=request.pk).status == Status.VIEWED

    def test_a_draft_does_not_exist_for_the_client(self, cast, book):
        request = transfer(cast.broker1, book.anna, send=False)
        with pytest.raises(Http404):
            services.signing_code_request(actor=cast.client1, request_id=request.pk, content_hash=request.content_hash)

    def test_a_cancelled_request_cannot_be_signed_with_a_code_issued_before(self, cast, book):
        request = transfer(cast.broker1, book.anna)
        code = request_code(request, cast.client1)
        services.signature_request_cancel(actor=cast.broker1, request_id=request.pk)
        with pytest.raises(ValidationError) as error:
            sign(request, cast.client1, code)
        assert error.value.code == "not_open"


class TestLimits:
    def test_five_wrong_codes_kill_the_challenge_even_the_right_one_then(self, cast, book):
        request = transfer(cast.broker1, book.anna)
        code = request_code(request, cast.client1)
        messages = []
        for _ in range(5):
            with pytest.raises(ValidationError) as error:
                sign(request, cast.client1, wrong(code))
            messages.append(error.value.code)

        assert messages == ["wrong_code"] * 4 + ["challenge_dead"]
        challenge = SigningChallenge.objects.get()
        assert (challenge.status, challenge.failed_attempts) == (SigningChallenge.Status.DEAD, 5)
        with pytest.raises(ValidationError) as error:
            sign(request, cast.client1, code)
        assert error.value.code == "no_code"
        assert actions(request).count("signing.code_wrong") == 5
        assert "signing.challenge_dead" in actions(request)

    def test_ten_wrong_codes_in_a_day_lock_signing_for_24_hours_and_tell_broker_and_back_office(self, cast, book):
        first = transfer(cast.broker1, book.anna)
        second = transfer(cast.broker1, book.anna, amount="99.00")
        for request in (first, second):
            code = request_code(request, cast.client1)
            a_minute_passes()
            for _ in range(5):
                with pytest.raises(ValidationError) as error:
                    sign(request, cast.client1, wrong(code))

        assert error.value.code == "locked"
        guard = SigningGuard.objects.get(user=cast.client1)
        assert timedelta(hours=23, minutes=59) < guard.locked_until - timezone.now() <= timedelta(hours=24)
        for user in (cast.broker1, cast.backoffice, cast.admin):
            assert Notification.objects.filter(user=user, event="signing.client_locked").count() == 1
        assert "signing.client_locked" in actions(second)
        third = transfer(cast.broker1, book.anna, amount="5.00")
        a_minute_passes()
        with pytest.raises(ValidationError) as error:
            request_code(third, cast.client1)
        assert error.value.code == "locked"

    def test_wrong_codes_older_than_a_day_do_not_count(self, cast, book):
        first = transfer(cast.broker1, book.anna)
        code = request_code(first, cast.client1)
        for _ in range(5):
            with pytest.raises(ValidationError):
                sign(first, cast.client1, wrong(code))
        SigningFailure.objects.update(created_at=timezone.now() - timedelta(hours=25))
        second = transfer(cast.broker1, book.anna, amount="7.00")
        a_minute_passes()
        code = request_code(second, cast.client1)
        for _ in range(5):
            with pytest.raises(ValidationError) as error:
                sign(second, cast.client1, wrong(code))
        assert error.value.code == "challenge_dead"  # 5 today, not locked

    def test_a_resend_waits_a_minute_and_replaces_the_code(self, cast, book):
        request = transfer(cast.broker1, book.anna)
        first = request_code(request, cast.client1)
        with pytest.raises(ValidationError) as error:
            request_code(request, cast.client1)
        assert error.value.code == "too_soon"

        a_minute_passes()
        second = request_code(request, cast.client1)

        challenge = SigningChallenge.objects.get()
        assert challenge.sends == 2
        if first != second:
            with pytest.raises(ValidationError):
                sign(request, cast.client1, first)
        sign(request, cast.client1, second)

    def test_a_challenge_is_sent_at_most_three_more_times(self, cast, book):
        request = transfer(cast.broker1, book.anna)
        request_code(request, cast.client1)
        for _ in range(3):
            a_minute_passes()
            request_code(request, cast.client1)
        a_minute_passes()
        with pytest.raises(ValidationError) as error:
            request_code(request, cast.client1)
        assert error.value.code == "resend_limit"
        assert SigningChallenge.objects.get().sends == 4

    def test_a_phone_gets_at_most_ten_codes_a_day(self, cast, book):
        requests = [transfer(cast.broker1, book.anna, amount=f"{n}.00") for n in range(1, 12)]
        for request in requests[:10]:
            a_minute_passes()
            request_code(request, cast.client1)
        a_minute_passes()
        with pytest.raises(ValidationError) as error:
            request_code(requests[10], cast.client1)
        assert error.value.code == "phone_limit"
        assert OutboxMessage.objects.filter(event="signing.code").count() == 10


class TestBackOffice:
    def test_the_back_office_marks_a_signed_request_processed_and_the_broker_hears(self, cast, book):
        request = transfer(cast.broker1, book.anna)
        sign(request, cast.client1, request_code(request, cast.client1))

        services.signature_request_handle(actor=cast.backoffice, request_id=request.pk, outcome="processed")

        request.refresh_from_db()
        assert (request.status, request.handled_by) == (Status.PROCESSED, cast.backoffice)
        assert Notification.objects.filter(user=cast.broker1, event="signing.request_processed").exists()
        with pytest.raises(ValidationError):
            services.signature_request_handle(
                actor=cast.backoffice, request_id=request.pk, outcome="returned", comment="x"
            )

    def test_returning_needs_a_comment(self, cast, book):
        request = transfer(cast.broker1, book.anna)
        sign(request, cast.client1, request_code(request, cast.client1))
        with pytest.raises(ValidationError) as error:
            services.signature_request_handle(actor=cast.backoffice, request_id=request.pk, outcome="returned")
        assert "comment" in error.value.message_dict
        services.signature_request_handle(
            actor=cast.backoffice, request_id=request.pk, outcome="returned", comment="Payee IBAN is a savings account."
        )
        assert SignatureRequest.objects.get(pk=request.pk).status == Status.RETURNED

    @pytest.mark.parametrize("user", ["broker1", "manager", "client1", "outsider"])
    def test_only_the_back_office_hands_over(self, cast, book, user):
        request = transfer(cast.broker1, book.anna)
        sign(request, cast.client1, request_code(request, cast.client1))
        with pytest.raises(Http404):
            services.signature_request_handle(actor=getattr(cast, user), request_id=request.pk, outcome="processed")
        assert SignatureRequest.objects.get(pk=request.pk).status == Status.SIGNED

    def test_an_unsigned_request_cannot_be_handled(self, cast, book):
        request = transfer(cast.broker1, book.anna)
        with pytest.raises(ValidationError):
            services.signature_request_handle(actor=cast.backoffice, request_id=request.pk, outcome="processed")


class TestExpiry:
    def test_requests_past_their_deadline_expire_once_and_the_broker_hears(self, cast, book):
        due = transfer(cast.broker1, book.anna)
        later = transfer(cast.broker1, book.anna, amount="3.00")
        SignatureRequest.objects.filter(pk=due.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

        assert services.signature_requests_expire() == 1
        assert services.signature_requests_expire() == 0

        assert SignatureRequest.objects.get(pk=due.pk).status == Status.EXPIRED
        assert SignatureRequest.objects.get(pk=later.pk).status == Status.SENT
        assert Notification.objects.filter(user=cast.broker1, event="signing.request_expired").count() == 1
        assert actions(due)[-1] == "signing.request_expired"

    def test_a_client_cannot_sign_past_the_deadline_even_before_the_sweep(self, cast, book):
        request = transfer(cast.broker1, book.anna)
        code = request_code(request, cast.client1)
        SignatureRequest.objects.filter(pk=request.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        with pytest.raises(ValidationError) as error:
            sign(request, cast.client1, code)
        assert error.value.code == "not_open"
        assert SignatureRequest.objects.get(pk=request.pk).status == Status.EXPIRED


def row_columns(message) -> dict:
    """The outbox row as the database holds it, every column, read without the model."""
    table = OutboxMessage._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [message.pk])  # noqa: S608 (our own table name)
        names = [column[0] for column in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))


def in_the_row(code: str, message) -> bool:
    return any(code in str(value) for value in row_columns(message).values())


def code_message(request) -> OutboxMessage:
    return OutboxMessage.objects.filter(event="signing.code", user=request.recipient).order_by("-id").first()


def _signed(cast, request, code):
    sign(request, cast.client1, code)


def _cancelled(cast, request, code):
    services.signature_request_cancel(actor=cast.broker1, request_id=request.pk)


def _declined(cast, request, code):
    services.signature_request_decline(actor=cast.client1, request_id=request.pk, reason="Not now.")


def _request_expired(cast, request, code):
    SignatureRequest.objects.filter(pk=request.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert services.signature_requests_expire() == 1


def _content_changed(cast, request, code):
    services.signature_request_update(actor=cast.broker1, request_id=request.pk, amount="99.00")


def _code_expired(cast, request, code):
    SigningChallenge.objects.update(code_issued_at=timezone.now() - timedelta(minutes=5, seconds=1))
    with pytest.raises(ValidationError, match="expired"):
        sign(request, cast.client1, code)


def _five_wrong_codes(cast, request, code):
    for _ in range(5):
        with pytest.raises(ValidationError):
            sign(request, cast.client1, wrong(code))
    assert SigningChallenge.objects.get(request=request).status == SigningChallenge.Status.DEAD


def _walked_away(cast, request, code):
    SigningChallenge.objects.update(code_issued_at=timezone.now() - timedelta(hours=1))
    assert services.signing_challenges_expire_stale() == 1


class TestCodeSecret:
    """The code is in no column of the outbox row; its sealed copy goes at hand-over or when its round ends."""

    def test_the_row_never_holds_the_code_before_or_after_sending_and_the_code_still_signs(self, cast, book):
        request = transfer(cast.broker1, book.anna)
        code = request_code(request, cast.client1)
        message = code_message(request)

        assert not in_the_row(code, message)
        assert row_columns(message)["secret"] != ""
        assert outbox_message_deliver(message_id=message.pk) == "sent"
        assert not in_the_row(code, message)
        assert row_columns(message)["secret"] == ""
        assert code_from(message) == code  # the dev transport's copy, as the client read it

        sign(request, cast.client1, code)
        assert SignatureRequest.objects.get(pk=request.pk).status == Status.SIGNED

    @pytest.mark.parametrize(
        "end_the_round",
        [
            pytest.param(_signed, id="signed"),
            pytest.param(_cancelled, id="request-cancelled"),
            pytest.param(_declined, id="request-declined"),
            pytest.param(_request_expired, id="request-expired"),
            pytest.param(_content_changed, id="new-content"),
            pytest.param(_code_expired, id="code-expired"),
            pytest.param(_five_wrong_codes, id="dead"),
            pytest.param(_walked_away, id="stale-round-swept"),
        ],
    )
    def test_ending_the_round_empties_the_secret_of_an_sms_never_sent(self, cast, book, end_the_round):
        request = transfer(cast.broker1, book.anna)
        code = request_code(request, cast.client1)  # read from the sealed copy: no worker, no beat ran
        message = code_message(request)

        end_the_round(cast, request, code)

        message.refresh_from_db()
        assert (message.secret, message.status) == ("", "failed")
        assert message.secret_wiped_at is not None and "no longer valid" in message.last_error
        assert outbox_message_deliver(message_id=message.pk) is None  # never sent, whatever the sweep does
        assert SigningChallenge.objects.get(request=request).redacted_at is not None


def test_the_periodic_sweep_expires_ends_stale_rounds_and_renders_what_is_missing(cast, book):
    from signing.tasks import signing_sweep

    overdue = transfer(cast.broker1, book.anna)
    SignatureRequest.objects.filter(pk=overdue.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    walked_away = transfer(cast.broker1, book.bert, portfolio_reference="P2")
    stale_code = request_code(walked_away, cast.client2)
    SigningChallenge.objects.filter(request=walked_away).update(code_issued_at=timezone.now() - timedelta(hours=1))
    signed = transfer(cast.broker1, book.anna, amount="5.00")
    sign(signed, cast.client1, request_code(signed, cast.client1))  # no commit hooks here: no PDF yet
    OutboxMessage.objects.filter(event="signing.code").update(status="sent")

    result = signing_sweep()

    assert result == {"expired": 1, "codes_expired": 1, "rendered": 1}
    assert SignatureRequest.objects.get(pk=overdue.pk).status == Status.EXPIRED
    assert SigningChallenge.objects.get(request=walked_away).status == SigningChallenge.Status.EXPIRED
    assert not OutboxMessage.objects.filter(event="signing.code").exclude(secret="").exists()
    assert all(stale_code not in sms_text(m) for m in OutboxMessage.objects.filter(event="signing.code"))
    assert SignatureEvidence.objects.get(request=signed).pdf
    assert signing_sweep() == {"expired": 0, "codes_expired": 0, "rendered": 0}


class TestCodeSecretEnds:
    def test_a_resend_makes_a_new_code_and_the_old_ones_secret_is_gone(self, cast, book):
        request = transfer(cast.broker1, book.anna)
        first_code = request_code(request, cast.client1)
        first = code_message(request)
        a_minute_passes()

        second_code = request_code(request, cast.client1)
        second = code_message(request)

        first.refresh_from_db()
        assert second.pk != first.pk and second.secret
        assert (first.secret, first.status) == ("", "failed") and first.secret_wiped_at is not None
        assert code_from(second) == second_code
        if first_code != second_code:
            with pytest.raises(ValidationError):
                sign(request, cast.client1, first_code)
        sign(request, cast.client1, second_code)
        second.refresh_from_db()
        assert second.secret == ""

    def test_a_lock_ends_every_round_of_the_client_and_their_secrets(self, cast, book):
        first = transfer(cast.broker1, book.anna)
        second = transfer(cast.broker1, book.anna, amount="99.00")
        waiting = transfer(cast.broker1, book.anna, amount="5.00")
        request_code(waiting, cast.client1)
        for request in (first, second):
            a_minute_passes()
            code = request_code(request, cast.client1)
            for _ in range(5):
                with pytest.raises(ValidationError) as error:
                    sign(request, cast.client1, wrong(code))

        assert error.value.code == "locked"
        assert not SigningChallenge.objects.filter(user=cast.client1, status="active").exists()
        assert SigningChallenge.objects.get(request=waiting).status == SigningChallenge.Status.VOID
        assert not OutboxMessage.objects.filter(event="signing.code").exclude(secret="").exists()
        locked = AuditEvent.objects.get(action="signing.client_locked")
        assert locked.changes["codes_voided"] == [SigningChallenge.objects.get(request=waiting).pk]

    def test_a_code_sms_delivered_late_after_its_round_ended_is_not_sent(self, cast, book, twilio_settings):
        request = transfer(cast.broker1, book.anna)
        request_code(request, cast.client1)
        message = code_message(request)
        services.signature_request_cancel(actor=cast.broker1, request_id=request.pk)

        OutboxMessage.objects.filter(pk=message.pk).update(status="pending")  # as if a requeue raced it
        assert outbox_message_deliver(message_id=message.pk) == "failed"

        assert twilio_settings.requests == []
        assert "secret part was destroyed" in OutboxMessage.objects.get(pk=message.pk).last_error

    def test_a_code_sms_is_not_sent_after_its_round_could_still_use_it(self, cast, book, twilio_settings):
        request = transfer(cast.broker1, book.anna)
        request_code(request, cast.client1)
        message = code_message(request)
        assert message.send_before is not None
        OutboxMessage.objects.filter(pk=message.pk).update(send_before=timezone.now() - timedelta(seconds=1))

        assert outbox_message_deliver(message_id=message.pk) == "failed"
        assert twilio_settings.requests == []
