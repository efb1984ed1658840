"""Django admin for the back office: signed requests read-only, handed over only through the audited actions."""

import pytest
from django.urls import reverse

from portal.audit.models import AuditEvent
from signing.models import SignatureRequest

from .conftest import a_minute_passes, request_code, sign, transfer
from .test_permissions import EVERYONE

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:signing_signaturerequest_changelist")


@pytest.fixture
def signed(cast, book):
    request = transfer(cast.broker1, book.anna)
    sign(request, cast.client1, request_code(request, cast.client1))
    return request


def test_back_office_staff_see_signed_requests_with_attachments_and_evidence(cast, book, signed, login_as):
    draft = transfer(cast.broker1, book.anna, send=False, amount="5.00")
    client = login_as(cast.backoffice)

    listing = client.get(CHANGELIST)
    detail = client.get(reverse("admin:signing_signaturerequest_change", args=[signed.pk]))
    hidden = client.get(reverse("admin:signing_signaturerequest_change", args=[draft.pk]))

    assert listing.status_code == 200 and signed.short_reference in listing.text
    assert draft.short_reference not in listing.text
    assert detail.status_code == 200
    assert signed.attachments.get().name in detail.text and "+49••••••••001" in detail.text
    assert 'name="_save"' not in detail.text  # nothing to save: read-only
    assert hidden.status_code == 302  # admin's answer for an object that does not exist


@pytest.mark.parametrize("user", [u for u in EVERYONE if u not in ("backoffice", "admin")])
def test_nobody_else_reaches_it_in_admin(cast, signed, login_as, user):
    response = login_as(getattr(cast, user)).get(CHANGELIST)
    # Not staff: admin sends them to its login, which sends them back to the portal (not back in).
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_the_actions_hand_over_with_a_comment_and_are_audited(cast, book, signed, login_as):
    other = transfer(cast.broker1, book.anna, amount="7.00")
    a_minute_passes()
    sign(other, cast.client1, request_code(other, cast.client1))
    client = login_as(cast.backoffice)

    refused = client.post(
        CHANGELIST, {"action": "mark_returned", "_selected_action": [signed.pk], "comment": ""}, follow=True
    )
    assert "Say why the request is returned." in refused.text
    client.post(CHANGELIST, {"action": "mark_returned", "_selected_action": [signed.pk], "comment": "Wrong IBAN"})
    client.post(CHANGELIST, {"action": "mark_processed", "_selected_action": [other.pk], "comment": ""})

    assert SignatureRequest.objects.get(pk=signed.pk).handling_comment == "Wrong IBAN"
    assert SignatureRequest.objects.get(pk=signed.pk).status == "returned"
    assert SignatureRequest.objects.get(pk=other.pk).status == "processed"
    assert AuditEvent.objects.filter(action__in=["signing.request_returned", "signing.request_processed"]).count() == 2


def test_nothing_can_be_added_or_deleted(cast, signed, login_as):
    client = login_as(cast.admin)
    assert client.get(reverse("admin:signing_signaturerequest_add")).status_code == 403
    assert client.get(reverse("admin:signing_signaturerequest_delete", args=[signed.pk])).status_code == 403
