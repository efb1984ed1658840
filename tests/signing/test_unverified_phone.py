"""Signing sends its code only to a mobile number the client has verified; both sides are told why not."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from portal.accounts import phone_verification as pv
from portal.accounts.models import User
from portal.notifications.models import OutboxMessage
from portal.notifications.selectors import dev_message_text
from signing import services
from signing.models import SignatureRequest, SigningChallenge

from .conftest import opened, request_code, sign, transfer

pytestmark = pytest.mark.django_db


def unverify(user) -> User:
    pv.user_phone_change(user=user, phone="+4915199991111")
    return User.objects.get(pk=user.pk)


def test_a_client_with_an_unverified_number_gets_no_code_and_is_told_how_to_fix_it(cast, book):
    request = opened(transfer(cast.broker1, book.anna), cast.client1)
    client1 = unverify(cast.client1)

    with pytest.raises(ValidationError, match="You have not verified your mobile number yet") as refused:
        services.signing_code_request(actor=client1, request_id=request.pk, content_hash=request.content_hash)

    assert refused.value.code == "phone_unverified"
    assert not SigningChallenge.objects.exists()
    assert not OutboxMessage.objects.filter(event="signing.code").exists()


def test_the_client_page_says_so(cast, book, login_as):
    request = opened(transfer(cast.broker1, book.anna), cast.client1)
    unverify(cast.client1)
    client = login_as(cast.client1)

    response = client.post(
        reverse("signing:code-request", args=[request.pk]),
        {"content_hash": request.content_hash},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 400
    assert "You have not verified your mobile number yet" in response.text
    assert "Profile" in response.text


def test_a_broker_cannot_send_a_request_to_a_client_with_an_unverified_number(cast, book):
    unverify(cast.client1)
    draft = transfer(cast.broker1, book.anna, send=False)

    with pytest.raises(ValidationError, match="has not verified their mobile number") as refused:
        services.signature_request_send(actor=cast.broker1, request_id=draft.pk)

    assert refused.value.code == "phone_unverified"
    assert "Anna Albers" in refused.value.messages[0]
    assert SignatureRequest.objects.get(pk=draft.pk).status == SignatureRequest.Status.DRAFT


def test_once_verified_the_code_goes_to_the_new_number_and_signs(cast, book):
    request = transfer(cast.broker1, book.anna)
    client1 = unverify(cast.client1)
    pv.phone_code_send(user=client1)
    sms = OutboxMessage.objects.get(event=pv.SMS_EVENT)
    pv.phone_code_check(user=client1, code=re.search(r"\d{6}", dev_message_text(message=sms)).group(0))
    client1 = User.objects.get(pk=client1.pk)

    code = request_code(request, client1)
    sign(request, client1, code)

    assert OutboxMessage.objects.get(event="signing.code").recipient == "+4915199991111"
    assert SignatureRequest.objects.get(pk=request.pk).status == SignatureRequest.Status.SIGNED
