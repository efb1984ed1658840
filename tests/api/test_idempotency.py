"""Idempotency-Key on every POST of the API: a repeat gets the first answer and changes nothing."""

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.test import Client
from django.test.client import encode_multipart
from django.urls import get_resolver, reverse
from django.utils import timezone
from drf_spectacular.validation import validate_schema

from portal.api import services as api_keys
from portal.api.idempotency import IdempotencyGate
from portal.api.models import ApiKeyRateWindow, IdempotencyRecord
from portal.api.roles import backoffice_permissions_grant
from portal.api.tasks import api_sweep
from portal.audit.models import AuditEvent
from portal.notifications.models import OutboxMessage
from reports.models import Report
from signing import services as signing_services
from signing.api import serializers as signing_serializers
from signing.models import SignatureRequest
from tests.signing.conftest import IBAN, pdf_bytes, transfer

pytestmark = pytest.mark.django_db

LIST = "/api/v1/signature-requests/"
KEY = "3f6c2a4e-order-4711"


def body(book, **changes) -> dict:
    return {
        "recipient": str(book.anna.pk),
        "kind": "fund_transfer",
        "amount": "1250.00",
        "currency": "EUR",
        "portfolio": "P1",
        "payee_name": "Max Mustermann",
        "payee_iban": IBAN,
        "send": True,
        **changes,
    }


def key_of(user, name="ERP") -> dict:
    _, secret = api_keys.api_key_create(
        actor=user,
        second_factor_verified=True,
        name=name,
        scopes={"signature_requests": "write", "reports": "write"},
    )
    return {"HTTP_AUTHORIZATION": f"Api-Key {secret}"}


def post(client, data, *, key=KEY, path=LIST, credentials=None, **extra):
    """JSON, or multipart for the one operation that takes files (creating a signature request)."""
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    if path == LIST:
        form = {name: str(value).lower() if isinstance(value, bool) else value for name, value in data.items()}
        return client.post(path, form, **headers, **(credentials or {}), **extra)
    return client.post(path, data, content_type="application/json", **headers, **(credentials or {}), **extra)


def received() -> int:
    """Messages telling the client about a new request (one per channel they chose)."""
    return OutboxMessage.objects.filter(event="signing.request_received").count()


def replayed(response) -> bool:
    return response.get("Idempotent-Replayed") == "true"


@pytest.fixture
def erp(cast):
    return key_of(cast.broker1)


def test_a_repeat_gets_the_first_answer_and_changes_nothing(cast, book, erp):
    client = Client()
    first = post(client, body(book), credentials=erp)
    messages = received()
    again = post(client, body(book), credentials=erp)

    assert first.status_code == 201 and not replayed(first)
    assert again.status_code == 201 and replayed(again)
    assert again.content == first.content
    assert again["Location"] == first["Location"] == f"{LIST}{first.json()['id']}/"
    assert SignatureRequest.objects.count() == 1
    assert messages == 1 and received() == 1
    assert AuditEvent.objects.filter(action="signing.request_sent").count() == 1
    record = IdempotencyRecord.objects.get()
    assert (record.state, record.status_code, record.key, record.path) == ("done", 201, KEY, LIST)


def test_without_a_key_every_post_runs(cast, book, erp):
    client = Client()
    assert [post(client, body(book, send=False), key=None, credentials=erp).status_code for _ in range(2)] == [201, 201]
    assert SignatureRequest.objects.count() == 2 and not IdempotencyRecord.objects.exists()


def test_the_same_key_with_another_body_or_path_is_a_409_and_changes_nothing(cast, book, erp):
    client = Client()
    first = post(client, body(book), credentials=erp)
    other_body = post(client, body(book, amount="9999.00"), credentials=erp)
    other_path = post(
        client,
        {"kind": "inducements", "period_start": "2026-09-01", "period_end": "2026-09-30"},
        path="/api/v1/reports/",
        credentials=erp,
    )

    assert first.status_code == 201
    for response in (other_body, other_path):
        assert response.status_code == 409 and not replayed(response)
        assert response.json() == {
            "error": {
                "code": "idempotency_key_reused",
                "message": "This Idempotency-Key was already used for a different request. "
                "Use a new key for a new request.",
                "status": 409,
                "details": {},
            }
        }
    assert SignatureRequest.objects.get().amount == 1250
    assert not Report.objects.exists()


def test_a_key_belongs_to_its_caller(cast, book, erp, login_as):
    """Another API key of the same user, the user's session and another broker each have their own keys."""
    first = post(Client(), body(book), credentials=erp)
    second_key = post(Client(), body(book), credentials=key_of(cast.broker1, name="Backup"))
    session = post(login_as(cast.broker1), body(book))
    other_broker = post(
        Client(), body(book, recipient=str(book.dora.pk), portfolio="P3"), credentials=key_of(cast.broker3)
    )

    assert [r.status_code for r in (first, second_key, session, other_broker)] == [201, 201, 201, 201]
    assert not any(replayed(r) for r in (second_key, session, other_broker))
    assert SignatureRequest.objects.count() == 4
    assert IdempotencyRecord.objects.filter(key=KEY).count() == 4
    assert post(login_as(cast.broker1), body(book)).json() == session.json()


@pytest.mark.parametrize("bad", ["", "k" * 256, "schlüssel", "tab\tkey", "bell\x07", "del\x7f"])
def test_a_bad_key_is_refused_with_400_and_changes_nothing(cast, book, erp, bad):
    response = post(Client(), body(book), key=bad, credentials=erp)

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "idempotency_key_invalid",
        "message": "The Idempotency-Key header must be 1 to 255 printable ASCII characters.",
        "status": 400,
        "details": {},
    }
    assert not SignatureRequest.objects.exists() and not IdempotencyRecord.objects.exists()


@pytest.mark.parametrize("good", ["k" * 255, "a", "~ !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}"])
def test_any_printable_ascii_key_up_to_255_characters_is_taken(cast, book, erp, good):
    assert post(Client(), body(book, send=False), key=good, credentials=erp).status_code == 201
    assert IdempotencyRecord.objects.get().key == good


def test_credentials_are_checked_before_the_key(book, db):
    response = post(Client(), body(book), key="")
    assert response.status_code == 401 and not IdempotencyRecord.objects.exists()


def test_json_with_its_keys_in_another_order_is_the_same_request(cast, book, erp):
    data = {"kind": "inducements", "period_start": "2026-09-01", "period_end": "2026-09-30"}
    reports = "/api/v1/reports/"
    client = Client()
    first = client.post(reports, json.dumps(data), content_type="application/json", HTTP_IDEMPOTENCY_KEY=KEY, **erp)
    shuffled = json.dumps(dict(reversed(list(data.items()))), indent=2)
    again = client.post(reports, shuffled, content_type="application/json", HTTP_IDEMPOTENCY_KEY=KEY, **erp)

    assert first.status_code == 202 and again.status_code == 202 and replayed(again)
    assert Report.objects.count() == 1


def test_a_multipart_retry_with_a_new_boundary_is_the_same_request_but_another_file_is_not(cast, book, erp):
    from django.core.files.uploadedfile import SimpleUploadedFile

    def multipart(boundary, pdf):
        fields = {**body(book), "send": "true", "attachments": [SimpleUploadedFile("order.pdf", pdf)]}
        return Client().post(
            LIST,
            encode_multipart(boundary, fields),
            content_type=f"multipart/form-data; boundary={boundary}",
            HTTP_IDEMPOTENCY_KEY=KEY,
            **erp,
        )

    first = multipart("first-boundary-1a2b", pdf_bytes())
    retry = multipart("retry-boundary-9z8y", pdf_bytes())
    other_file = multipart("third-boundary-3c4d", pdf_bytes("another order"))

    assert first.status_code == 201 and [a["name"] for a in first.json()["attachments"]] == ["order.pdf"]
    assert retry.status_code == 201 and replayed(retry) and retry.content == first.content
    assert other_file.status_code == 409 and other_file.json()["error"]["code"] == "idempotency_key_reused"
    assert SignatureRequest.objects.count() == 1


def test_a_refusal_is_not_kept_so_the_corrected_request_runs_with_the_same_key(cast, book, erp):
    client = Client()
    refused = post(client, body(book, payee_iban="DE89370400440532013001"), credentials=erp)
    assert refused.status_code == 400 and "payee_iban" in refused.json()["error"]["details"]
    assert not IdempotencyRecord.objects.exists() and not SignatureRequest.objects.exists()

    corrected = post(client, body(book), credentials=erp)
    assert corrected.status_code == 201 and not replayed(corrected)
    assert SignatureRequest.objects.count() == 1


def test_a_server_error_is_kept_and_repeated_instead_of_running_again(cast, book, erp, monkeypatch):
    real = signing_serializers.SignatureRequestSerializer.to_representation

    def broken(self, instance):
        raise RuntimeError("the answer could not be built")

    monkeypatch.setattr(signing_serializers.SignatureRequestSerializer, "to_representation", broken)
    client = Client(raise_request_exception=False)
    failed = post(client, body(book), credentials=erp)
    monkeypatch.setattr(signing_serializers.SignatureRequestSerializer, "to_representation", real)
    again = post(client, body(book), credentials=erp)

    assert failed.status_code == 500 and not replayed(failed)
    assert again.status_code == 500 and replayed(again) and again.content == failed.content
    assert SignatureRequest.objects.count() == 1 and received() == 1
    assert IdempotencyRecord.objects.get().status_code == 500


def test_a_repeat_while_the_first_runs_gets_409_in_progress_with_retry_after(cast, book, erp, settings):
    settings.PORTAL_IDEMPOTENCY_WAIT_SECONDS = 0
    client = Client()
    assert post(client, body(book), credentials=erp).status_code == 201
    IdempotencyRecord.objects.update(state="running", status_code=None, body=None, completed_at=None)

    response = post(client, body(book), credentials=erp)

    assert response.status_code == 409 and response["Retry-After"] == "1"
    assert response.json()["error"]["code"] == "idempotency_in_progress"
    assert SignatureRequest.objects.count() == 1


def test_a_repeat_waits_for_the_first_answer_and_replays_it(cast, book, erp, settings, monkeypatch):
    """The first run answers while the repeat polls (here: between two of its polls)."""
    from portal.api import idempotency

    settings.PORTAL_IDEMPOTENCY_WAIT_SECONDS = 5
    client = Client()
    first = post(client, body(book), credentials=erp)
    done = {field: getattr(IdempotencyRecord.objects.get(), field) for field in ("status_code", "body", "headers")}
    IdempotencyRecord.objects.update(state="running", status_code=None, body=None, completed_at=None)
    polls = []

    def first_run_finishes(seconds):
        polls.append(seconds)
        IdempotencyRecord.objects.update(
            state="done", completed_at=timezone.now(), content_type="application/json", **done
        )

    monkeypatch.setattr(idempotency.time, "sleep", first_run_finishes)
    again = post(client, body(book), credentials=erp)

    assert polls == [idempotency.POLL_SECONDS]
    assert again.status_code == 201 and replayed(again) and again.content == first.content
    assert SignatureRequest.objects.count() == 1


def test_a_run_that_never_finished_is_not_run_again(cast, book, erp, settings):
    client = Client()
    assert post(client, body(book), credentials=erp).status_code == 201
    IdempotencyRecord.objects.update(
        state="running", status_code=None, body=None, completed_at=None, created_at=timezone.now() - timedelta(hours=1)
    )

    response = post(client, body(book), credentials=erp)

    assert response.status_code == 409 and "Retry-After" not in response
    assert response.json()["error"]["code"] == "idempotency_outcome_unknown"
    assert SignatureRequest.objects.count() == 1


def test_an_expired_record_no_longer_binds_the_key(cast, book, erp):
    client = Client()
    assert post(client, body(book), credentials=erp).status_code == 201
    IdempotencyRecord.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    again = post(client, body(book), credentials=erp)

    assert again.status_code == 201 and not replayed(again)
    assert SignatureRequest.objects.count() == 2 and IdempotencyRecord.objects.count() == 1


def test_records_are_kept_a_day(cast, book, erp):
    post(Client(), body(book), credentials=erp)
    record = IdempotencyRecord.objects.get()
    assert record.expires_at - record.created_at == timedelta(hours=24)


def test_cancelling_twice_with_one_key_replays_the_first_answer(cast, book, erp):
    request = transfer(cast.broker1, book.anna)
    url = reverse("signing-api:request-cancel", args=[request.pk])
    client = Client()

    first = post(client, {"reason": "Client called"}, path=url, credentials=erp)
    again = post(client, {"reason": "Client called"}, path=url, credentials=erp)
    without_key = post(client, {"reason": "Client called"}, key=None, path=url, credentials=erp)

    assert first.status_code == 200 and first.json()["status"] == "cancelled" and first.json()["attachments"]
    assert again.status_code == 200 and replayed(again) and again.content == first.content
    assert without_key.status_code == 400
    assert AuditEvent.objects.filter(action="signing.request_cancelled").count() == 1


def test_requesting_a_report_twice_with_one_key_replays_the_first_answer(cast, erp, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    data = {"kind": "inducements", "period_start": "2026-09-01", "period_end": "2026-09-30"}
    client = Client()

    first = post(client, data, path="/api/v1/reports/", credentials=erp)
    again = post(client, data, path="/api/v1/reports/", credentials=erp)

    assert first.status_code == 202 and again.status_code == 202 and replayed(again)
    assert again.content == first.content and Report.objects.count() == 1


def _api_post_views(patterns=None, prefix=""):
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(pattern.pattern)
        if hasattr(pattern, "url_patterns"):
            yield from _api_post_views(pattern.url_patterns, route)
        elif route.startswith("api/"):
            view = getattr(pattern.callback, "cls", None)
            if view is not None and hasattr(view, "post") and "post" in view.http_method_names:
                yield route, view


def test_every_post_route_of_the_api_goes_through_the_gate_and_the_middleware():
    routes = list(_api_post_views())
    assert {route for route, _view in routes} >= {
        "api/v1/signature-requests/",
        "api/v1/signature-requests/<int:request_id>/cancel/",
        "api/v1/reports/",
    }
    uncovered = [route for route, view in routes if IdempotencyGate not in view.throttle_classes]
    assert uncovered == [], f"POST routes that replaced throttle_classes without the IdempotencyGate: {uncovered}"
    assert settings.MIDDLEWARE[-1] == "portal.api.idempotency.IdempotencyMiddleware"


def test_the_schema_documents_the_key_and_the_409_on_every_post(client):
    schema = client.get(reverse("api-schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    validate_schema(schema)
    posts = {path: ops["post"] for path, ops in schema["paths"].items() if "post" in ops}
    # reports, signature requests (create, cancel), approvals (approve, reject), bnpl sessions,
    # bnpl order actions (capture, ship, cancel, refund), bnpl buy buttons
    assert len(posts) == 11
    for path, operation in posts.items():
        [parameter] = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
        assert parameter["in"] == "header" and parameter["schema"]["maxLength"] == 255, path
        assert operation["responses"]["409"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }
        success = [r for code, r in operation["responses"].items() if code.startswith("2")]
        assert success and all("Idempotent-Replayed" in r["headers"] for r in success), path
    assert not any("Idempotency-Key" in str(ops.get("get", {})) for ops in schema["paths"].values())


def test_back_office_sees_records_in_admin_without_the_stored_answers(cast, book, erp, login_as):
    backoffice_permissions_grant()
    post(Client(), body(book), credentials=erp)
    record = IdempotencyRecord.objects.get()
    client = login_as(cast.backoffice)

    listing = client.get(reverse("admin:portal_api_idempotencyrecord_changelist")).content.decode()
    detail = client.get(reverse("admin:portal_api_idempotencyrecord_change", args=[record.pk])).content.decode()

    assert LIST in listing and "201" in listing
    assert KEY in detail
    for page in (listing, detail):
        assert IBAN not in page and "Max Mustermann" not in page and "Anna" not in page
    delete = client.post(reverse("admin:portal_api_idempotencyrecord_delete", args=[record.pk]), {"post": "yes"})
    assert delete.status_code == 403 and IdempotencyRecord.objects.count() == 1


def test_a_broker_cannot_reach_the_records_in_admin(cast, login_as):
    response = login_as(cast.broker1).get(reverse("admin:portal_api_idempotencyrecord_changelist"))
    assert response.status_code == 302


def test_the_sweep_deletes_expired_records_and_ended_rate_windows(cast, book, erp):
    client = Client()
    post(client, body(book, send=False), credentials=erp)
    post(client, body(book, send=False), key="second", credentials=erp)
    IdempotencyRecord.objects.filter(key=KEY).update(expires_at=timezone.now() - timedelta(seconds=1))
    now = int(timezone.now().timestamp())
    key = cast.broker1.api_keys.first()
    ApiKeyRateWindow.objects.all().delete()
    ApiKeyRateWindow.objects.create(api_key=key, window_seconds=60, window_start=now - 3600, hits=3)
    current = ApiKeyRateWindow.objects.create(api_key=key, window_seconds=60, window_start=now // 60 * 60, hits=1)

    assert api_sweep.apply().result == {"idempotency_records": 1, "rate_windows": 1}
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["second"]
    assert list(ApiKeyRateWindow.objects.all()) == [current]


# --- a database connection lost after the commit --------------------------------------------


@pytest.fixture
def connection_lost_after_commit(monkeypatch):
    """After `service` commits (its outer transaction), the connection it used answers nothing more.

    Stands for a database connection that drops at that moment: every query on it fails with
    OperationalError, and only a new connection works again.
    """
    installed = []

    def arm(module, name):
        real = getattr(module, name)

        def service(*args, **kwargs):
            result = real(*args, **kwargs)
            transaction.on_commit(lose_connection)
            return result

        monkeypatch.setattr(module, name, service)

    def lose_connection():
        dead = connection.connection

        def refuse(execute, sql, params, many, context):
            if connection.connection is dead:
                raise OperationalError("server closed the connection unexpectedly")
            return execute(sql, params, many, context)

        connection.execute_wrappers.append(refuse)
        installed.append(refuse)

    yield arm
    for wrapper in installed:
        connection.execute_wrappers.remove(wrapper)


@pytest.mark.django_db(transaction=True)
def test_a_connection_lost_after_the_commit_still_answers_201_and_a_retry_replays_it(
    cast, book, connection_lost_after_commit
):
    connection_lost_after_commit(signing_services, "signature_request_send")
    erp = key_of(cast.broker1)
    client = Client()

    response = post(client, body(book), credentials=erp)

    assert response.status_code == 201
    data = response.json()
    assert data["status"] == "sent" and data["sender"] == "broker1@example.com" and data["expires_at"]
    again = post(client, body(book), credentials=erp)
    assert again.status_code == 201 and replayed(again) and again.content == response.content
    assert SignatureRequest.objects.count() == 1 and received() == 1


@pytest.mark.django_db(transaction=True)
def test_a_cancel_whose_connection_is_lost_after_the_commit_still_answers_200(cast, book, connection_lost_after_commit):
    request = transfer(cast.broker1, book.anna)
    connection_lost_after_commit(signing_services, "signature_request_cancel")
    url = reverse("signing-api:request-cancel", args=[request.pk])

    response = post(Client(), {"reason": "Client called"}, path=url, credentials=key_of(cast.broker1))

    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert [a["name"] for a in response.json()["attachments"]] == ["order.pdf"]


@pytest.mark.django_db(transaction=True)
def test_a_report_already_in_progress_is_answered_without_reading_after_the_commit(
    cast, connection_lost_after_commit, monkeypatch, tmp_path, settings
):
    """The service returns the identical pending report; its broker is loaded inside the transaction."""
    from reports import services as report_services
    from reports import tasks as report_tasks

    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(report_tasks.report_render, "delay", lambda report_id: None)  # stays queued
    data = {"kind": "inducements", "period_start": "2026-09-01", "period_end": "2026-09-30"}
    erp = key_of(cast.broker1)
    first = post(Client(), data, key=None, path="/api/v1/reports/", credentials=erp)
    connection_lost_after_commit(report_services, "report_request")

    again = post(Client(), data, key=None, path="/api/v1/reports/", credentials=erp)
    connection.close()  # the lost connection; the next request would open a new one

    assert first.status_code == 202 and again.status_code == 202
    assert again.json()["id"] == first.json()["id"] and again.json()["broker"] == "broker1@example.com"
    assert Report.objects.count() == 1
