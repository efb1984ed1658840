"""Proving a mobile number with an SMS code: right, wrong, late, too often; and what the outbox keeps of it."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from portal.accounts import phone_verification as pv
from portal.accounts.models import PhoneCodeSend, PhoneVerification, User
from portal.accounts.roles import Role
from portal.audit.models import AuditEvent
from portal.notifications.delivery import outbox_message_deliver
from portal.notifications.models import DevDelivery, OutboxMessage
from portal.notifications.selectors import dev_message_text
from tests.factories import UserFactory
from tests.parallel import in_parallel

pytestmark = pytest.mark.django_db
NUMBER = "+4915199990001"
Status = PhoneVerification.Status


@pytest.fixture
def person(db):
    """A client whose number is not verified yet."""
    from portal.accounts.services import role_groups_ensure

    role_groups_ensure()
    return UserFactory(email="newphone@example.com", first_name="Nina", phone=NUMBER, roles=[Role.CLIENT])


def fresh(user) -> User:
    return User.objects.get(pk=user.pk)


def code_sms(user) -> OutboxMessage:
    return OutboxMessage.objects.filter(event=pv.SMS_EVENT, user=user).order_by("-id").first()


def code_from(message: OutboxMessage) -> str:
    """The code as the person reads it in the SMS (the row itself keeps it sealed)."""
    return re.search(r"(?<!\d)\d{6}(?!\d)", dev_message_text(message=message)).group(0)


def send_code(user) -> str:
    pv.phone_code_send(user=user)
    return code_from(code_sms(user))


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def a_minute_passes() -> None:
    PhoneCodeSend.objects.update(created_at=timezone.now() - timedelta(seconds=61))


def test_the_right_code_verifies_the_number(person):
    code = send_code(person)

    pv.phone_code_check(user=person, code=code)

    assert fresh(person).phone_verified_at is not None
    assert PhoneVerification.objects.get().status == Status.VERIFIED
    assert AuditEvent.objects.filter(action="auth.phone_verified", object_id=str(person.pk)).exists()
    [sms] = OutboxMessage.objects.filter(event=pv.SMS_EVENT)
    assert sms.recipient == NUMBER


def test_a_code_with_spaces_is_read_as_typed(person):
    code = send_code(person)

    pv.phone_code_check(user=person, code=f" {code[:3]} {code[3:]} ")

    assert fresh(person).phone_verified_at is not None


def test_a_wrong_code_is_refused_counted_and_leaves_the_number_unverified(person):
    code = send_code(person)

    with pytest.raises(pv.CodeRefused, match=r"Wrong code\. 4 tries left") as refused:
        pv.phone_code_check(user=person, code=wrong(code))

    assert refused.value.remaining == 4
    assert fresh(person).phone_verified_at is None
    assert PhoneVerification.objects.get().failed_attempts == 1
    assert AuditEvent.objects.filter(action="auth.phone_code_wrong").count() == 1


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "12a456", "١٢٣٤٥٦"])
def test_a_malformed_code_is_refused_without_counting(person, typed):
    send_code(person)

    with pytest.raises(pv.CodeRefused, match="Enter the 6-digit code"):
        pv.phone_code_check(user=person, code=typed)

    assert PhoneVerification.objects.get().failed_attempts == 0


def test_a_code_older_than_five_minutes_is_refused_and_the_round_ends(person):
    code = send_code(person)
    PhoneVerification.objects.update(code_issued_at=timezone.now() - timedelta(minutes=5, seconds=1))

    with pytest.raises(pv.CodeRefused, match="expired"):
        pv.phone_code_check(user=person, code=code)

    assert PhoneVerification.objects.get().status == Status.EXPIRED
    assert fresh(person).phone_verified_at is None
    assert code not in dev_message_text(message=code_sms(person))


def test_five_wrong_codes_end_the_round_and_the_right_code_no_longer_works(person):
    code = send_code(person)
    for remaining in (4, 3, 2, 1):
        with pytest.raises(pv.CodeRefused, match=f"{remaining} tries left"):
            pv.phone_code_check(user=person, code=wrong(code))

    with pytest.raises(pv.CodeRefused, match="no longer works after 5 wrong tries"):
        pv.phone_code_check(user=person, code=wrong(code))
    with pytest.raises(pv.CodeRefused, match="Ask for a code first"):
        pv.phone_code_check(user=person, code=code)

    assert PhoneVerification.objects.get().status == Status.DEAD
    assert fresh(person).phone_verified_at is None
    assert OutboxMessage.objects.get(event=pv.SMS_EVENT).secret == ""


def test_a_new_code_waits_a_minute_and_replaces_the_old_one(person):
    first = send_code(person)

    with pytest.raises(ValidationError, match="another one in 60 seconds") as refused:
        pv.phone_code_send(user=person)
    assert refused.value.code == "too_soon"

    a_minute_passes()
    second = send_code(person)
    assert PhoneVerification.objects.get().sends == 2
    if first != second:
        with pytest.raises(pv.CodeRefused, match="Wrong code"):
            pv.phone_code_check(user=person, code=first)
    pv.phone_code_check(user=person, code=second)
    assert fresh(person).phone_verified_at is not None


def test_a_round_allows_three_new_codes_and_no_more(person):
    send_code(person)
    for _ in range(pv.RESENDS_PER_ROUND):
        a_minute_passes()
        pv.phone_code_send(user=person)
    a_minute_passes()

    with pytest.raises(ValidationError, match="cannot be sent again") as refused:
        pv.phone_code_send(user=person)

    assert refused.value.code == "resend_limit"
    assert OutboxMessage.objects.filter(event=pv.SMS_EVENT).count() == 1 + pv.RESENDS_PER_ROUND


def test_a_person_gets_at_most_ten_codes_a_day(person):
    for _ in range(pv.SMS_PER_DAY):
        a_minute_passes()
        PhoneVerification.objects.filter(status=Status.ACTIVE).update(status=Status.EXPIRED)
        pv.phone_code_send(user=person)
    a_minute_passes()
    PhoneVerification.objects.filter(status=Status.ACTIVE).update(status=Status.EXPIRED)

    with pytest.raises(ValidationError, match="most codes allowed in 24 hours"):
        pv.phone_code_send(user=person)
    assert OutboxMessage.objects.filter(event=pv.SMS_EVENT).count() == pv.SMS_PER_DAY


def test_a_number_gets_at_most_ten_codes_a_day_whoever_asks(person):
    others = [UserFactory(phone=NUMBER, roles=[Role.CLIENT]) for _ in range(pv.SMS_PER_DAY)]
    for other in others:
        pv.phone_code_send(user=other)

    with pytest.raises(ValidationError, match="most codes allowed in 24 hours"):
        pv.phone_code_send(user=person)


def test_no_code_without_a_number_or_for_a_verified_one(cast, person):
    person.phone = ""
    person.save()
    with pytest.raises(ValidationError, match="Enter your mobile number first"):
        pv.phone_code_send(user=person)
    with pytest.raises(ValidationError, match="verified already"):
        pv.phone_code_send(user=cast.client1)
    assert not OutboxMessage.objects.filter(event=pv.SMS_EVENT).exists()


def test_the_code_is_sealed_in_the_outbox_and_gone_everywhere_after_the_round(person):
    pv.phone_code_send(user=person)
    message = code_sms(person)
    code = code_from(message)
    assert code not in message.body and message.secret and code not in message.secret

    # The dev transport delivers it (the demo's stand-in for the provider's copy) ...
    assert outbox_message_deliver(message_id=message.pk) == OutboxMessage.Status.SENT
    assert code in DevDelivery.objects.get(message=message).body

    # ... and once the number is verified no copy of ours holds the code.
    pv.phone_code_check(user=person, code=code)
    message.refresh_from_db()
    assert message.secret == "" and message.secret_wiped_at is not None
    assert code not in message.body
    assert code not in DevDelivery.objects.get(message=message).body
    assert "••••••" in DevDelivery.objects.get(message=message).body
    assert code not in str(list(AuditEvent.objects.values_list("changes", flat=True)))


def test_a_code_not_yet_sent_when_its_round_ends_is_never_sent(person):
    pv.phone_code_send(user=person)
    message = code_sms(person)

    pv.user_phone_change(user=person, phone="+4915199990002")

    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.FAILED and message.secret == ""
    assert outbox_message_deliver(message_id=message.pk) is None
    assert PhoneVerification.objects.get().status == Status.VOID


def test_changing_the_number_clears_the_verification_and_tells_the_person_by_email(cast):
    user = cast.client1
    assert user.phone_verified_at is not None

    assert pv.user_phone_change(user=user, phone="0049 151 9999-0003") is True

    stored = fresh(user)
    assert stored.phone == "+4915199990003" and stored.phone_verified_at is None
    event = AuditEvent.objects.get(action="auth.phone_changed")
    old, new = pv.phone_mask("+4915112345001"), pv.phone_mask("+4915199990003")
    assert new == "+49••••••••003"
    assert event.changes == {"phone": [old, new], "verified": [True, False]}
    mail = OutboxMessage.objects.get(event="security.phone_changed", channel="email")
    assert mail.recipient == "client1@example.com" and new in mail.body


def test_the_same_number_again_changes_nothing(cast):
    assert pv.user_phone_change(user=cast.client1, phone="+49 151 12345001") is False
    assert fresh(cast.client1).phone_verified_at is not None
    assert not AuditEvent.objects.filter(action="auth.phone_changed").exists()


@pytest.mark.parametrize("typed", ["12345", "+49abc123456", "+0151123456", "015112345678", "+49151123456789012"])
def test_a_number_that_is_none_is_refused_and_changes_nothing(cast, typed):
    with pytest.raises(ValidationError, match="international format"):
        pv.user_phone_change(user=cast.client1, phone=typed)
    stored = fresh(cast.client1)
    assert stored.phone == "+4915112345001" and stored.phone_verified_at is not None


def test_a_number_changed_anywhere_else_is_unverified_too(cast):
    """The admin or a shell saves the user row: a verification proves one number only."""
    user = fresh(cast.client1)
    user.phone = "+4915199990004"
    user.save()
    assert fresh(user).phone_verified_at is None

    user = fresh(cast.client2)
    user.first_name = "Other"
    user.save()
    assert fresh(user).phone_verified_at is not None


def test_the_sweep_ends_rounds_whose_code_expired(person):
    code = send_code(person)
    PhoneVerification.objects.update(code_issued_at=timezone.now() - timedelta(minutes=6))

    assert pv.phone_verifications_expire_stale() == 1

    assert PhoneVerification.objects.get().status == Status.EXPIRED
    assert code not in dev_message_text(message=code_sms(person))
    assert pv.phone_verifications_expire_stale() == 0


def test_a_code_handed_to_the_provider_late_still_gets_its_five_minutes(person):
    code = send_code(person)
    issued = timezone.now() - timedelta(minutes=8)
    PhoneVerification.objects.update(code_issued_at=issued)
    OutboxMessage.objects.filter(event=pv.SMS_EVENT).update(send_started_at=timezone.now() - timedelta(minutes=2))

    pv.phone_code_check(user=person, code=code)

    assert fresh(person).phone_verified_at is not None


def test_the_state_says_what_the_profile_shows(person):
    assert pv.phone_state(user=person).round is None
    send_code(person)

    state = pv.phone_state(user=person)
    assert state.delivery == OutboxMessage.Status.PENDING and state.in_flight
    assert state.resend_in == 60 and state.resends_left == pv.RESENDS_PER_ROUND
    assert not state.verified


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_parallel_wrong_codes_are_counted_exactly(person):
    code = send_code(person)

    outcomes = in_parallel(8, lambda n: pv.phone_code_check(user=person, code=wrong(code)))

    assert all(isinstance(outcome, pv.CodeRefused) for outcome in outcomes)
    assert sorted(o.code for o in outcomes).count("round_dead") == 1
    assert sorted(o.code for o in outcomes).count("no_code") == 3
    assert PhoneVerification.objects.get().failed_attempts == pv.MAX_WRONG_PER_ROUND


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_parallel_requests_for_a_code_send_one_sms(person):
    outcomes = in_parallel(6, lambda n: pv.phone_code_send(user=person))

    assert sum(isinstance(outcome, PhoneVerification) for outcome in outcomes) == 1
    assert all(getattr(o, "code", None) == "too_soon" for o in outcomes if isinstance(o, ValidationError))
    assert OutboxMessage.objects.filter(event=pv.SMS_EVENT).count() == 1
