"""/api/v1/signature-requests/: the same rules as the pages, in the API's error format."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from drf_spectacular.validation import validate_schema

from portal.audit.models import AuditEvent
from signing.models import SignatureRequest

from .conftest import IBAN, pdf_bytes, transfer

pytestmark = pytest.mark.django_db
LIST = reverse("signing-api:request-list")


def body(book, **changes):
    return {
        "recipient": str(book.anna.pk),
        "kind": "fund_transfer",
        "amount": "1250.00",
        "currency": "EUR",
        "portfolio": "P1",
        "payee_name": "Max Mustermann",
        "payee_iban": IBAN,
        **changes,
    }


def test_a_broker_creates_a_draft_with_a_multipart_form(cast, book, login_as):
    response = login_as(cast.broker1).post(LIST, body(book))

    assert response.status_code == 201
    data = response.json()
    assert data["status"] == "draft"
    assert data["recipient"] == str(book.anna.pk) and data["recipient_name"] == "Anna Albers (C1001)"
    assert data["portfolio"] == {"reference": "P1", "label": "Depot P1 (P1)"}
    assert data["amount"] == "1250.00" and data["payee_iban"] == IBAN
    assert len(data["content_hash"]) == 64 and data["fingerprint"].count(" ") == 3
    assert AuditEvent.objects.filter(action="signing.request_created", actor=cast.broker1).count() == 1


def test_a_broker_creates_and_sends_with_attachments_in_one_multipart_call(cast, book, login_as):
    files = [
        SimpleUploadedFile("order.pdf", pdf_bytes(), content_type="application/pdf"),
        SimpleUploadedFile("annex.pdf", pdf_bytes("annex"), content_type="application/pdf"),
    ]
    response = login_as(cast.broker1).post(LIST, {**body(book), "attachments": files, "send": "true"})

    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["status"] == "sent" and data["expires_at"]
    assert [a["name"] for a in data["attachments"]] == ["order.pdf", "annex.pdf"]
    assert all(len(a["sha256"]) == 64 for a in data["attachments"])


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"payee_iban": "DE89370400440532013001"}, "payee_iban"),
        ({"amount": "-3"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"currency": "XXX"}, "currency"),
        ({"portfolio": "P2"}, "portfolio"),
        ({"recipient": str(999999)}, "recipient"),
        ({"kind": "loan"}, "kind"),
        ({"kind": "document", "message": ""}, "message"),
    ],
)
def test_bad_input_answers_400_with_the_field_and_changes_nothing(cast, book, login_as, changes, field):
    response = login_as(cast.broker1).post(LIST, body(book, **changes))

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and error["status"] == 400
    assert field in error["details"]
    assert not SignatureRequest.objects.exists()


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        ('{"recipient": "1", "kind": "document"}', "application/json"),
        ("recipient=1&kind=document", "application/x-www-form-urlencoded"),
    ],
)
def test_create_takes_only_a_multipart_form_and_says_so_in_the_error_format(
    cast, book, login_as, content, content_type
):
    response = login_as(cast.broker1).post(LIST, content, content_type=content_type)

    assert response.status_code == 415
    assert response.json()["error"] == {
        "code": "unsupported_media_type",
        "message": f'Unsupported media type "{content_type}" in request.',
        "status": 415,
        "details": {},
    }
    assert not SignatureRequest.objects.exists()


def test_a_client_of_another_firm_cannot_be_addressed(cast, book, login_as):
    response = login_as(cast.broker1).post(LIST, body(book, recipient=str(book.dora.pk)))
    assert response.status_code == 400
    assert response.json()["error"]["details"]["recipient"] == ["Choose one of your clients."]


def test_a_disguised_file_is_refused_and_an_oversized_one_answers_413(cast, book, login_as, settings):
    client = login_as(cast.broker1)
    fake = SimpleUploadedFile("order.pdf", b"#!/bin/sh\nrm -rf /", content_type="application/pdf")
    response = client.post(LIST, {**body(book), "attachments": [fake]})
    assert response.status_code == 400
    assert "order.pdf is a program, not a document." in response.json()["error"]["details"]["attachments"]

    settings.SIGNING_MAX_ATTACHMENT_BYTES = 500
    big = SimpleUploadedFile("big.pdf", pdf_bytes() + b"%" * 1000, content_type="application/pdf")
    response = client.post(LIST, {**body(book), "attachments": [big]})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert not SignatureRequest.objects.exists()


def test_the_list_filters_by_status_and_kind(cast, book, login_as):
    sent = transfer(cast.broker1, book.anna)
    transfer(cast.broker1, book.anna, send=False, amount="2.00")
    client = login_as(cast.broker1)

    assert [r["id"] for r in client.get(LIST, {"status": "sent"}).json()["results"]] == [sent.pk]
    assert client.get(LIST, {"kind": "document"}).json()["count"] == 0
    assert client.get(LIST, {"q": sent.short_reference}).json()["count"] == 1
    assert client.get(LIST, {"status": "nonsense"}).status_code == 400


def test_cancel_through_the_api(cast, book, login_as):
    request = transfer(cast.broker1, book.anna)
    client = login_as(cast.broker1)
    url = reverse("signing-api:request-cancel", args=[request.pk])

    response = client.post(url, {"reason": "Client called"}, content_type="application/json")
    again = client.post(url, {}, content_type="application/json")

    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert again.status_code == 400 and again.json()["error"]["message"]


def test_the_list_runs_the_same_number_of_queries_at_two_sizes(cast, book, login_as, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login_as(cast.broker1)
    transfer(cast.broker1, book.anna)
    with CaptureQueriesContext(connection) as small:
        client.get(LIST)
    for n in range(10):
        transfer(cast.broker1, book.anna, amount=f"{n + 2}.00", send=n % 2 == 0)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(LIST).json()["count"] == 11


def test_the_schema_describes_the_endpoints(client):
    schema = client.get(reverse("api-schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    validate_schema(schema)
    assert {"/api/v1/signature-requests/", "/api/v1/signature-requests/{request_id}/cancel/"} <= set(schema["paths"])


def test_an_api_key_reaches_the_endpoints_only_through_its_signature_requests_scope(cast, book):
    from django.test import Client

    from portal.api import services as api_keys

    def key(scopes):
        _key, secret = api_keys.api_key_create(
            actor=cast.broker1, second_factor_verified=True, name="ERP", scopes=scopes
        )
        return {"HTTP_AUTHORIZATION": f"Api-Key {secret}"}

    erp = Client()
    writer = key({"signature_requests": "write"})
    reader = key({"signature_requests": "read"})
    other = key({"clients": "read"})

    created = erp.post(LIST, body(book), **writer)
    assert created.status_code == 201
    assert erp.get(LIST, **reader).json()["count"] == 1
    assert erp.post(LIST, body(book), **reader).status_code == 403
    assert erp.get(LIST, **other).status_code == 403
    assert SignatureRequest.objects.count() == 1
