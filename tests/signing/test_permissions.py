"""Who reaches which request, through every page, file and endpoint: everyone else gets 404.

Only the addressed client sees and signs a request (once sent); only the sending broker, their
firm manager and back-office staff follow its status, files and evidence.
"""

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from signing.models import SignatureRequest

from .conftest import pdf_bytes, request_code, sign, transfer

pytestmark = pytest.mark.django_db

EVERYONE = [
    "admin",
    "backoffice",
    "manager",
    "broker1",
    "broker2",
    "broker3",
    "client1",
    "client2",
    "client3",
    "partner",
    "merchant",
    "outsider",
]
SENDER_SIDE = {"broker1", "manager", "backoffice", "admin"}  # admin holds the back-office role
CLIENT_SIDE = {"client1"}


@pytest.fixture
def requests(cast, book):
    draft = transfer(cast.broker1, book.anna, send=False, amount="10.00")
    sent = transfer(cast.broker1, book.anna, amount="20.00")
    signed = transfer(cast.broker1, book.anna, amount="30.00")
    sign(signed, cast.client1, request_code(signed, cast.client1))
    # A stand-in for the rendered PDF (rendering is tested in test_pdf.py): only access matters here.
    evidence = signed.evidence
    evidence.pdf.save("signed.pdf", ContentFile(pdf_bytes("signed")), save=True)
    return {"draft": draft, "sent": sent, "signed": signed}


def status_of(client, url) -> int:
    return client.get(url).status_code


def expected(user, allowed) -> int:
    return 200 if user in allowed else 404


@pytest.mark.parametrize("user", EVERYONE)
def test_the_status_page_is_for_sender_manager_and_back_office_only(cast, requests, login_as, user):
    client = login_as(getattr(cast, user))
    for name in ("sent", "signed"):
        url = reverse("signing:request-detail", args=[requests[name].pk])
        assert status_of(client, url) == expected(user, SENDER_SIDE), (name, user)
    draft_viewers = {"broker1", "manager"}
    assert status_of(client, reverse("signing:request-detail", args=[requests["draft"].pk])) == expected(
        user, draft_viewers
    )


@pytest.mark.parametrize("user", EVERYONE)
def test_the_client_page_is_for_the_addressed_client_only(cast, requests, login_as, user):
    client = login_as(getattr(cast, user))
    for name in ("sent", "signed"):
        url = reverse("signing:inbox-detail", args=[requests[name].pk])
        assert status_of(client, url) == expected(user, CLIENT_SIDE), (name, user)
    assert status_of(client, reverse("signing:inbox-detail", args=[requests["draft"].pk])) == 404


@pytest.mark.parametrize("user", EVERYONE)
def test_attachments_and_the_signed_pdf_reach_only_both_sides(cast, requests, login_as, user):
    client = login_as(getattr(cast, user))
    allowed = SENDER_SIDE | CLIENT_SIDE
    for name in ("sent", "signed"):
        attachment = requests[name].attachments.get()
        url = reverse("signing:attachment", args=[requests[name].pk, attachment.pk])
        response = client.get(url)
        assert response.status_code == expected(user, allowed), (name, user)
        if response.status_code == 200:
            assert response["Content-Type"] == "application/pdf"
            assert response["X-Content-Type-Options"] == "nosniff"
            assert "default-src 'none'" in response["Content-Security-Policy"]
            assert response["Content-Disposition"].startswith("inline")
            assert b"".join(response.streaming_content).startswith(b"%PDF-")
    pdf_url = reverse("signing:signed-pdf", args=[requests["signed"].pk])
    assert status_of(client, pdf_url) == expected(user, allowed)
    draft = requests["draft"]
    draft_file = reverse("signing:attachment", args=[draft.pk, draft.attachments.get().pk])
    assert status_of(client, draft_file) == expected(user, {"broker1", "manager"})


@pytest.mark.parametrize("user", EVERYONE)
def test_an_attachment_id_of_another_request_is_not_found(cast, requests, login_as, user):
    client = login_as(getattr(cast, user))
    other = requests["signed"].attachments.get()
    url = reverse("signing:attachment", args=[requests["sent"].pk, other.pk])
    assert status_of(client, url) == 404


@pytest.mark.parametrize("user", EVERYONE)
def test_the_api_shows_a_request_to_its_broker_and_manager_only(cast, requests, login_as, user):
    client = login_as(getattr(cast, user))
    for name in ("draft", "sent", "signed"):
        url = reverse("signing-api:request-detail", args=[requests[name].pk])
        assert status_of(client, url) == expected(user, {"broker1", "manager"}), (name, user)
    listed = client.get(reverse("signing-api:request-list"))
    if user in ("broker1", "manager"):
        assert {row["id"] for row in listed.json()["results"]} == {r.pk for r in requests.values()}
    elif user in ("broker2", "broker3"):
        assert listed.json()["results"] == []
    else:
        assert listed.status_code == 403


@pytest.mark.parametrize("user", [u for u in EVERYONE if u not in ("broker1", "manager")])
def test_nobody_else_can_cancel_change_or_send_and_nothing_changes(cast, requests, login_as, user):
    client = login_as(getattr(cast, user))
    draft, sent = requests["draft"], requests["sent"]
    api = client.post(reverse("signing-api:request-cancel", args=[sent.pk]), {"reason": "x"})
    page = client.post(reverse("signing:request-cancel", args=[sent.pk]), {"reason": "x"})
    send = client.post(reverse("signing:request-send", args=[draft.pk]))
    edit = client.post(reverse("signing:request-edit", args=[sent.pk]), {"amount": "1.00"})
    upload = client.post(reverse("signing:attachment-add", args=[sent.pk]), {})
    assert api.status_code == 404
    # Back office may read the request, so it is refused (403) rather than hidden.
    refused = 403 if user in ("backoffice", "admin") else 404
    assert (page.status_code, edit.status_code, upload.status_code) == (refused, refused, refused)
    assert send.status_code == 404
    assert SignatureRequest.objects.get(pk=sent.pk).status == "sent"
    assert SignatureRequest.objects.get(pk=draft.pk).status == "draft"


@pytest.mark.parametrize("user", [u for u in EVERYONE if u != "client1"])
def test_nobody_but_the_client_can_ask_for_a_code_sign_or_decline(cast, requests, login_as, user):
    client = login_as(getattr(cast, user))
    sent = requests["sent"]
    for name in ("signing:code-request", "signing:sign", "signing:decline", "signing:code-status"):
        method = client.get if name == "signing:code-status" else client.post
        response = method(reverse(name, args=[sent.pk]), {"content_hash": sent.content_hash, "code": "123456"})
        assert response.status_code == 404, (name, user)
    assert SignatureRequest.objects.get(pk=sent.pk).status == "sent"


@pytest.mark.parametrize("user", EVERYONE)
def test_the_back_office_pages_are_for_back_office_staff(cast, requests, login_as, user):
    client = login_as(getattr(cast, user))
    signed = requests["signed"]
    inbox = client.get(reverse("signing:backoffice-inbox"))
    detail = client.get(reverse("signing:backoffice-detail", args=[signed.pk]))
    handle = client.post(reverse("signing:backoffice-handle", args=[signed.pk]), {"outcome": "processed"})
    if user in ("backoffice", "admin"):
        # The list is the work inbox now; the old address leads there.
        assert (inbox.status_code, inbox["Location"]) == (302, "/backoffice/?kind=signing.signed_request")
        assert detail.status_code == 200
        assert handle.status_code == 302
    else:
        assert (inbox.status_code, detail.status_code, handle.status_code) == (403, 403, 403)
        assert SignatureRequest.objects.get(pk=signed.pk).status == "signed"


@pytest.mark.parametrize("user", EVERYONE)
def test_lists_never_contain_foreign_requests(cast, requests, login_as, user):
    client = login_as(getattr(cast, user))
    ids = {r.pk for r in requests.values()}
    broker_list = client.get(reverse("signing:request-list"))
    inbox = client.get(reverse("signing:inbox"))
    if user in ("broker1", "manager"):
        assert {r.pk for r in broker_list.context["page"]} == ids
    elif broker_list.status_code == 200:
        assert list(broker_list.context["page"]) == []
    if user == "client1":
        assert {r.pk for r in inbox.context["page"]} == {requests["sent"].pk, requests["signed"].pk}
    elif inbox.status_code == 200:
        assert list(inbox.context["page"]) == []


def test_the_pdf_check_page_is_for_staff_and_compliance(cast, login_as):
    assert login_as(cast.backoffice).get(reverse("signing:verify")).status_code == 200
    for user in (cast.broker1, cast.manager, cast.client1, cast.outsider):
        assert login_as(user).get(reverse("signing:verify")).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client, cast, requests):
    for url in (
        reverse("signing:request-detail", args=[requests["sent"].pk]),
        reverse("signing:inbox-detail", args=[requests["sent"].pk]),
        reverse("signing:signed-pdf", args=[requests["signed"].pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response.url
    assert (
        client.get(reverse("signing-api:request-list")).status_code == 401
    )  # no credentials: the key scheme asks for one


def test_the_policy_decides_the_same_on_a_loaded_request_as_in_the_database(cast, requests):
    """One rule, two evaluations: the filter for lists and the Python decision for one loaded request."""
    from signing.permissions import requests as policy

    for who in EVERYONE:
        actor = getattr(cast, who)
        for action in policy.actions:
            listed = set(SignatureRequest.objects.restrict(actor, action).values_list("pk", flat=True))
            decided = {r.pk for r in SignatureRequest.objects.all() if policy.has(actor, r, action)}
            assert decided == listed, (who, action)
