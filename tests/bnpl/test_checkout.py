"""The hosted checkout's services: option, direct debit, SMS code bound to the agreement, one order per session."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from bnpl import checkout, mandates
from bnpl.agreements import ORIGIN
from bnpl.models import CreditAgreement, Instalment, Order, OrderLine, PaymentSession, Plan
from bnpl.services import LineInput, session_create
from portal.audit.models import AuditEvent
from signing import services as signing
from signing.models import SignatureRequest
from tests.signing.conftest import a_minute_passes, book, code_from, transfer  # noqa: F401 (book: a fixture)

pytestmark = pytest.mark.django_db

IBAN = "DE89 3704 0044 0532 0130 00"


def open_session(cast, *, email="client2@example.com", amount="100.00", lines=None) -> PaymentSession:
    lines = lines or [LineInput(name="Grinder", quantity=1, unit_price=Decimal(amount), tax_rate=Decimal("19"))]
    return session_create(
        actor=cast.merchant,
        amount=Decimal(amount),
        currency="EUR",
        lines=lines,
        shopper_email=email,
        locale="en",
        reference="DELTA-9001",
        return_url="https://shop.example.com/back",
    )


def ready_to_sign(session, user, option="pay_in_4") -> str:
    """Option chosen and account given; returns the agreement's hash as the page shows it."""
    agreement = checkout.checkout_option_choose(actor=user, session_id=session.pk, option_key=option)
    if mandates.active_mandate(agreement.shopper) is None:
        mandates.mandate_grant(actor=user, shopper=agreement.shopper, iban=IBAN, account_holder="Carl Weber")
    session = checkout.checkout_session_get(token=session.token)
    draft = checkout.agreement_draft(
        session=session, shopper=agreement.shopper, option_key=option, today=timezone.localdate()
    )
    return draft.content_hash


def code_for(session, user, content_hash) -> str:
    sent = checkout.checkout_code_request(actor=user, session_id=session.pk, content_hash=content_hash)
    return code_from(sent.send.outbox_message)


def test_the_shopper_chooses_signs_with_the_sms_code_and_the_order_is_placed_and_approved(shops, cast):
    session = open_session(cast)
    content_hash = ready_to_sign(session, cast.client2)
    code = code_for(session, cast.client2, content_hash)

    order = checkout.checkout_accept(
        actor=cast.client2, session_id=session.pk, option_key="pay_in_4", content_hash=content_hash, code=code
    )

    assert order.state == Order.State.APPROVED
    assert (order.shopper, order.amount, order.option_key) == (shops.client2, Decimal("100.00"), "pay_in_4")
    session.refresh_from_db()
    assert session.state == PaymentSession.State.USED
    assert list(OrderLine.objects.filter(session=session).values_list("order_id", flat=True)) == [order.pk]
    plan = Plan.objects.get(order=order)
    assert plan.state == Plan.State.AWAITING_SHIPMENT and plan.total_payable == Decimal("100.00")
    assert (
        list(Instalment.objects.filter(plan=plan).values_list("amount", "due_date")) == [(Decimal("25.00"), None)] * 4
    )
    agreement = CreditAgreement.objects.get(session=session)
    request = agreement.signature_request
    assert request.status == SignatureRequest.Status.SIGNED
    assert (request.origin, request.external_reference, request.recipient) == (ORIGIN, str(session.pk), cast.client2)
    assert content_hash in request.message and request.evidence.content_hash == request.content_hash
    assert agreement.content["lines"][0]["name"] == "Grinder" and agreement.content["option"] == "pay_in_4"
    assert AuditEvent.objects.filter(action="bnpl.checkout_placed", object_id=str(order.pk)).exists()


def test_a_shopper_over_their_limit_waits_for_review(shops, cast):
    session = open_session(cast, amount="1500.00")
    content_hash = ready_to_sign(session, cast.client2, option="monthly_6")
    code = code_for(session, cast.client2, content_hash)

    order = checkout.checkout_accept(
        actor=cast.client2, session_id=session.pk, option_key="monthly_6", content_hash=content_hash, code=code
    )

    assert order.state == Order.State.IN_REVIEW


def test_a_login_with_another_email_is_refused_and_changes_nothing(shops, cast):
    session = open_session(cast)

    with pytest.raises(PermissionDenied, match="another e-mail"):
        checkout.checkout_option_choose(actor=cast.client3, session_id=session.pk, option_key="pay_in_4")

    assert not CreditAgreement.objects.exists()


def test_another_shopper_cannot_ask_for_the_code_or_place_the_order(shops, cast):
    session = open_session(cast)
    content_hash = ready_to_sign(session, cast.client2)
    code = code_for(session, cast.client2, content_hash)

    with pytest.raises(PermissionDenied):
        checkout.checkout_code_request(actor=cast.client3, session_id=session.pk, content_hash=content_hash)
    with pytest.raises(PermissionDenied):
        checkout.checkout_accept(
            actor=cast.client3, session_id=session.pk, option_key="pay_in_4", content_hash=content_hash, code=code
        )
    with pytest.raises(PermissionDenied):
        checkout.checkout_place(
            actor=cast.client3, session_id=session.pk, option_key="pay_in_4", content_hash=content_hash
        )
    assert not Order.objects.filter(session=session).exists()


def test_an_expired_session_is_refused(shops, cast):
    session = open_session(cast)
    PaymentSession.objects.filter(pk=session.pk).update(
        created_at=timezone.now() - timedelta(hours=3), expires_at=timezone.now() - timedelta(minutes=1)
    )

    with pytest.raises(ValidationError) as refused:
        checkout.checkout_option_choose(actor=cast.client2, session_id=session.pk, option_key="pay_in_4")

    assert refused.value.error_dict["session"][0].code == "expired"
    assert not CreditAgreement.objects.exists()


def test_an_option_that_is_not_offered_is_refused(shops, cast):
    session = open_session(cast)

    with pytest.raises(ValidationError) as refused:
        checkout.checkout_option_choose(actor=cast.client2, session_id=session.pk, option_key="monthly_99")

    assert refused.value.error_dict["option_key"][0].code == "option_not_offered"
    assert not CreditAgreement.objects.exists()


def test_a_bad_iban_is_refused_and_no_code_can_be_asked_for(shops, cast):
    session = open_session(cast)
    agreement = checkout.checkout_option_choose(actor=cast.client2, session_id=session.pk, option_key="pay_in_4")

    with pytest.raises(ValidationError) as refused:
        mandates.mandate_grant(
            actor=cast.client2, shopper=agreement.shopper, iban="DE89 3704 0044 0532 0130 01", account_holder="C W"
        )
    assert "iban" in refused.value.message_dict
    assert mandates.active_mandate(agreement.shopper) is None

    draft = checkout.agreement_draft(
        session=session, shopper=agreement.shopper, option_key="pay_in_4", today=timezone.localdate()
    )
    with pytest.raises(ValidationError) as no_mandate:
        checkout.checkout_code_request(actor=cast.client2, session_id=session.pk, content_hash=draft.content_hash)
    assert no_mandate.value.error_dict["iban"][0].code == "no_mandate"


def test_a_code_sent_for_the_old_figures_is_refused_after_repricing(shops, cast):
    session = open_session(cast)
    old_hash = ready_to_sign(session, cast.client2)
    old_code = code_for(session, cast.client2, old_hash)
    request = CreditAgreement.objects.get(session=session).signature_request
    old_signing_hash = SignatureRequest.objects.get(pk=request.pk).content_hash

    checkout.session_lines_update(
        actor=cast.merchant,
        session_id=session.pk,
        amount=Decimal("160.00"),
        lines=[
            LineInput(name="Grinder", quantity=1, unit_price=Decimal("100.00")),
            LineInput(name="Beans", quantity=4, unit_price=Decimal("15.00")),
        ],
    )

    # The checkout refuses the old figures ...
    with pytest.raises(ValidationError) as refused:
        checkout.checkout_accept(
            actor=cast.client2, session_id=session.pk, option_key="pay_in_4", content_hash=old_hash, code=old_code
        )
    assert refused.value.error_dict["content_hash"][0].code == "content_changed"
    # ... and signing itself no longer takes the old code for the old content.
    with pytest.raises(ValidationError):
        signing.signature_request_sign(
            actor=cast.client2, request_id=request.pk, code=old_code, content_hash=old_signing_hash
        )
    assert not Order.objects.filter(session=session).exists()

    # The new figures are read, a new code signs them, and the order has the new amount and lines.
    new_hash = ready_to_sign(session, cast.client2)
    assert new_hash != old_hash
    a_minute_passes()
    new_code = code_for(session, cast.client2, new_hash)
    order = checkout.checkout_accept(
        actor=cast.client2, session_id=session.pk, option_key="pay_in_4", content_hash=new_hash, code=new_code
    )
    assert order.amount == Decimal("160.00")
    assert sorted(order.lines.values_list("name", flat=True)) == ["Beans", "Grinder"]
    assert CreditAgreement.objects.get(session=session).content["total_amount_of_credit"] == "160.00"


def test_a_second_submit_places_no_second_order(shops, cast):
    session = open_session(cast)
    content_hash = ready_to_sign(session, cast.client2)
    code = code_for(session, cast.client2, content_hash)
    first = checkout.checkout_accept(
        actor=cast.client2, session_id=session.pk, option_key="pay_in_4", content_hash=content_hash, code=code
    )

    again = checkout.checkout_accept(
        actor=cast.client2, session_id=session.pk, option_key="pay_in_4", content_hash=content_hash, code=code
    )
    placed, created = checkout.checkout_place(
        actor=cast.client2, session_id=session.pk, option_key="pay_in_4", content_hash=content_hash
    )

    assert again == first == placed and created is False
    assert Order.objects.filter(session=session).count() == 1


@pytest.mark.django_db(transaction=True)
def test_parallel_submits_place_one_order(cast, shops):
    session = open_session(cast)
    content_hash = ready_to_sign(session, cast.client2)
    code = code_for(session, cast.client2, content_hash)
    request = CreditAgreement.objects.get(session=session).signature_request
    signing.signature_request_sign(
        actor=cast.client2, request_id=request.pk, code=code, content_hash=request.content_hash
    )
    results, barrier = [], threading.Barrier(2)

    def place():
        try:
            barrier.wait()
            results.append(
                checkout.checkout_place(
                    actor=cast.client2, session_id=session.pk, option_key="pay_in_4", content_hash=content_hash
                )
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=place) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(created for _order, created in results) == [False, True]
    assert len({order.pk for order, _created in results}) == 1
    assert Order.objects.filter(session=session).count() == 1


def test_placing_without_a_signature_is_refused(shops, cast):
    session = open_session(cast)
    content_hash = ready_to_sign(session, cast.client2)
    code_for(session, cast.client2, content_hash)

    with pytest.raises(ValidationError) as refused:
        checkout.checkout_place(
            actor=cast.client2, session_id=session.pk, option_key="pay_in_4", content_hash=content_hash
        )

    assert refused.value.error_dict["code"][0].code == "not_signed"
    assert not Order.objects.filter(session=session).exists()


def test_a_wrong_code_places_nothing(shops, cast):
    session = open_session(cast)
    content_hash = ready_to_sign(session, cast.client2)
    code = code_for(session, cast.client2, content_hash)
    wrong = "000000" if code != "000000" else "111111"

    with pytest.raises(ValidationError):
        checkout.checkout_accept(
            actor=cast.client2, session_id=session.pk, option_key="pay_in_4", content_hash=content_hash, code=wrong
        )

    assert not Order.objects.filter(session=session).exists()
    assert PaymentSession.objects.get(pk=session.pk).state == PaymentSession.State.OPEN


def test_only_the_bnpl_service_user_writes_agreements_and_only_to_shoppers(shops, cast):
    from bnpl.agreements import service_user
    from signing.permissions import can_write_requests

    sender = service_user()

    assert can_write_requests(sender) and not can_write_requests(cast.merchant) and not can_write_requests(cast.client2)
    with pytest.raises(PermissionDenied):
        signing.signature_request_create(
            actor=cast.merchant, recipient=f"shopper:{shops.client2.pk}", kind="document", title="T", message="M"
        )
    with pytest.raises(ValidationError) as nobody:
        signing.signature_request_create(
            actor=sender, recipient=f"client:{cast.client1.pk}", kind="document", title="T", message="M"
        )
    assert "recipient" in nobody.value.message_dict
    assert not sender.has_usable_password()


def test_the_service_user_follows_its_own_requests_and_nobody_elses(shops, cast, book):  # noqa: F811
    from bnpl.agreements import service_user

    broker_request = transfer(cast.broker1, book.anna)
    session = open_session(cast)
    code_for(session, cast.client2, ready_to_sign(session, cast.client2))
    own = CreditAgreement.objects.get(session=session).signature_request

    followed = set(SignatureRequest.objects.restrict(service_user(), "follow").values_list("pk", flat=True))

    assert followed == {own.pk} and broker_request.pk not in followed


def test_an_agreement_is_seen_by_its_shopper_and_bnpl_staff_only(shops, cast, login_as):
    session = open_session(cast)
    agreement = checkout.checkout_option_choose(actor=cast.client2, session_id=session.pk, option_key="pay_in_4")

    def sees(user) -> bool:
        return CreditAgreement.objects.restrict(user).filter(pk=agreement.pk).exists()

    assert sees(cast.client2) and sees(cast.backoffice)
    assert not sees(cast.client3) and not sees(cast.merchant) and not sees(shops.merchant2)
    detail = login_as(cast.backoffice).get(f"/admin/bnpl/creditagreement/{agreement.pk}/change/")
    assert detail.status_code == 200 and 'name="_save"' not in detail.text  # read only


def test_choosing_another_option_withdraws_the_request_so_its_code_signs_nothing(shops, cast):
    session = open_session(cast)
    old_code = code_for(session, cast.client2, ready_to_sign(session, cast.client2))
    old_request = SignatureRequest.objects.get(pk=CreditAgreement.objects.get(session=session).signature_request_id)

    checkout.checkout_option_choose(actor=cast.client2, session_id=session.pk, option_key="monthly_3")

    old_request.refresh_from_db()
    assert old_request.status == SignatureRequest.Status.CANCELLED
    with pytest.raises(ValidationError) as refused:  # not even from the client zone's signing page
        signing.signature_request_sign(
            actor=cast.client2, request_id=old_request.pk, code=old_code, content_hash=old_request.content_hash
        )
    assert refused.value.code == "not_open"
    agreement = CreditAgreement.objects.get(session=session)
    assert agreement.option_key == "monthly_3" and agreement.signature_request is None
