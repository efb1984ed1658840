"""Parallel requests on PostgreSQL: one signature from 20 right codes, exact counters from 50 wrong ones.

Each thread has its own database connection, as parallel web requests do; a barrier releases
them together so they really meet at the locks.
"""

import pytest
from django.core.exceptions import ValidationError

from portal.audit.models import AuditEvent
from portal.notifications.models import Notification
from signing import services
from signing.models import (
    SignatureEvidence,
    SignatureRequest,
    SigningChallenge,
    SigningCodeSend,
    SigningFailure,
    SigningGuard,
)
from tests.parallel import in_parallel

from .conftest import opened, request_code, transfer, wrong

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def codes_of(outcomes) -> list[str]:
    return sorted(o.code if isinstance(o, ValidationError) else type(o).__name__ for o in outcomes)


def test_twenty_parallel_submissions_of_the_right_code_sign_exactly_once(cast, book):
    request = transfer(cast.broker1, book.anna)
    code = request_code(request, cast.client1)
    request = SignatureRequest.objects.get(pk=request.pk)

    outcomes = in_parallel(
        20,
        lambda n: services.signature_request_sign(
            actor=cast.client1, request_id=request.pk, code=code, content_hash=request.content_hash
        ),
    )

    assert codes_of(outcomes) == ["SignatureEvidence"] + ["already_signed"] * 19
    assert SignatureEvidence.objects.filter(request=request).count() == 1
    assert SignatureRequest.objects.get(pk=request.pk).status == "signed"
    challenge = SigningChallenge.objects.get(request=request)
    assert (challenge.status, challenge.failed_attempts) == ("used", 0)
    assert not SigningFailure.objects.exists()


def test_fifty_parallel_wrong_guesses_leave_exact_counters(cast, book):
    request = transfer(cast.broker1, book.anna)
    code = request_code(request, cast.client1)
    request = SignatureRequest.objects.get(pk=request.pk)
    guesses = [wrong(code)] * 50

    outcomes = in_parallel(
        50,
        lambda n: services.signature_request_sign(
            actor=cast.client1, request_id=request.pk, code=guesses[n], content_hash=request.content_hash
        ),
    )

    # Five guesses were checked (the fifth killed the challenge); the other 45 found no live code.
    assert codes_of(outcomes) == sorted(["wrong_code"] * 4 + ["challenge_dead"] + ["no_code"] * 45)
    challenge = SigningChallenge.objects.get(request=request)
    assert (challenge.status, challenge.failed_attempts) == ("dead", 5)
    assert SigningFailure.objects.filter(user=cast.client1).count() == 5
    assert not SignatureEvidence.objects.exists()


def test_parallel_wrong_guesses_on_two_requests_lock_the_client_exactly_at_ten(cast, book):
    first = transfer(cast.broker1, book.anna)
    second = transfer(cast.broker1, book.anna, amount="99.00")
    codes = {first.pk: request_code(first, cast.client1)}
    SigningCodeSend.objects.update(created_at="2000-01-01T00:00:00Z")  # a minute later
    codes[second.pk] = request_code(second, cast.client1)
    targets = [SignatureRequest.objects.get(pk=pk) for pk in (first.pk, second.pk)]

    outcomes = in_parallel(
        30,
        lambda n: services.signature_request_sign(
            actor=cast.client1,
            request_id=targets[n % 2].pk,
            code=wrong(codes[targets[n % 2].pk]),
            content_hash=targets[n % 2].content_hash,
        ),
    )

    assert SigningFailure.objects.filter(user=cast.client1).count() == 10
    assert [c.failed_attempts for c in SigningChallenge.objects.order_by("request_id")] == [5, 5]
    assert set(codes_of(outcomes)) <= {"wrong_code", "challenge_dead", "no_code", "locked"}
    assert "locked" in codes_of(outcomes)
    assert SigningGuard.objects.get(user=cast.client1).locked_until is not None
    assert AuditEvent.objects.filter(action="signing.client_locked").count() == 1
    assert Notification.objects.filter(user=cast.broker1, event="signing.client_locked").count() == 1


def test_parallel_code_requests_send_one_sms(cast, book):
    request = opened(transfer(cast.broker1, book.anna), cast.client1)

    outcomes = in_parallel(
        10,
        lambda n: services.signing_code_request(
            actor=cast.client1, request_id=request.pk, content_hash=request.content_hash
        ),
    )

    assert codes_of(outcomes) == sorted(["CodeSent"] + ["too_soon"] * 9)
    assert SigningCodeSend.objects.count() == 1
    assert SigningChallenge.objects.filter(request=request).count() == 1
