"""What the API kernel does for every endpoint: one error body for every status, conditional GET,
empty query values, UTC timestamps, file downloads by Accept header, one request format."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from signing.models import SignatureRequest

from .conftest import ready_report

pytestmark = pytest.mark.django_db
CLIENTS = "/api/v1/clients/"


@pytest.fixture
def key(api_world):
    return {"HTTP_AUTHORIZATION": f"Api-Key {api_world.keys['broker1']}"}


def error_of(response, status: int) -> dict:
    """The error body, after checking it has exactly the documented shape."""
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "status", "details"}
    assert error["status"] == status and error["message"] and isinstance(error["details"], dict)
    assert all(isinstance(v, list) and all(isinstance(m, str) for m in v) for v in error["details"].values())
    return error


# --- one error body, every status ---------------------------------------------------------


def test_a_bad_field_is_a_400_naming_it_with_a_list_of_messages(api_world, key):
    error = error_of(Client().get(CLIENTS, {"assets_min": "lots"}, **key), 400)
    assert error["code"] == "invalid"
    assert error["details"] == {"assets_min": ["Enter a number."]}


def test_a_rule_on_the_whole_request_is_a_400_under_non_field_errors(api_world, key):
    request = api_world.signature_requests["broker1"]
    url = reverse("signing-api:request-cancel", args=[request.pk])
    Client().post(url, {}, content_type="application/json", **key)
    error = error_of(Client().post(url, {}, content_type="application/json", **key), 400)
    assert list(error["details"]) == ["non_field_errors"]
    assert error["message"] == " ".join(error["details"]["non_field_errors"])


def test_a_message_that_was_a_plain_string_is_now_a_list_too(api_world, key):
    anna = api_world.book.anna.pk
    url = f"/api/v1/clients/{anna}/performance/"
    error = error_of(Client().get(url, {"from": "2026-10-01", "to": "2026-09-01"}, **key), 400)
    assert error["details"] == {"from": ["The start must not be after the end."]}


def test_without_credentials_401_with_the_scheme(db):
    response = Client().get(CLIENTS)
    assert error_of(response, 401)["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == 'Api-Key realm="api"'


def test_a_read_only_key_writing_is_403_scope_denied_without_details(api_world):
    response = Client().post(
        "/api/v1/reports/", {}, content_type="application/json", HTTP_AUTHORIZATION=f"Api-Key {api_world.read_only_key}"
    )
    error = error_of(response, 403)
    assert error["code"] == "scope_denied" and error["details"] == {}


def test_a_session_without_second_factor_gets_the_same_format(cast, login_as):
    assert error_of(login_as(cast.broker1, verified=False).get(CLIENTS), 403)["code"] == "second_factor_required"


def test_someone_elses_object_and_an_unknown_address_are_404(api_world, key):
    dora = api_world.book.dora.pk
    assert error_of(Client().get(f"{CLIENTS}{dora}/", **key), 404)["code"] == "not_found"
    assert error_of(Client().get("/api/v1/no-such-thing/", **key), 404)["code"] == "not_found"


def test_a_method_the_path_does_not_list_is_405_with_allow(api_world, key):
    response = Client().delete(CLIENTS, **key)
    assert error_of(response, 405)["code"] == "method_not_allowed"
    assert response["Allow"] == "GET, HEAD, OPTIONS"


def test_an_accept_header_nothing_can_satisfy_is_406(api_world, key):
    error = error_of(Client().get(CLIENTS, HTTP_ACCEPT="text/csv", **key), 406)
    assert error["code"] == "not_acceptable"


def test_a_body_over_the_limit_is_413_and_changes_nothing(api_world, key, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"kind": "inducements", "period_start": "2026-09-01", "period_end": "2026-09-30", "pad": "%s"}' % (
        "x" * 2000
    )
    response = Client().post("/api/v1/reports/", body, content_type="application/json", **key)
    assert error_of(response, 413)["code"] == "too_large"
    assert not api_world.cast.broker1.reports.exclude(pk=api_world.reports["broker1"].pk).exists()


@pytest.mark.parametrize(
    ("url", "content_type", "body"),
    [
        ("/api/v1/reports/", "application/x-www-form-urlencoded", "kind=inducements"),
        ("/api/v1/reports/", "multipart/form-data; boundary=x", "--x--"),
        ("/api/v1/signature-requests/", "application/json", '{"recipient": "1", "kind": "document"}'),
    ],
)
def test_a_body_in_another_format_than_the_operations_one_is_415(api_world, key, url, content_type, body):
    response = Client().post(url, body, content_type=content_type, **key)
    assert error_of(response, 415)["code"] == "unsupported_media_type"
    assert SignatureRequest.objects.count() == 2


def test_malformed_json_is_a_400_parse_error(api_world, key):
    response = Client().post("/api/v1/reports/", "{nope", content_type="application/json", **key)
    assert error_of(response, 400)["code"] == "parse_error"


def test_over_the_rate_429_with_retry_after(api_world, key, settings):
    settings.PORTAL_API_KEY_RATE = "1/minute"
    Client().get("/api/v1/me/", **key)
    response = Client().get("/api/v1/me/", **key)
    assert error_of(response, 429)["code"] == "throttled"
    assert int(response["Retry-After"]) > 0


def test_a_server_error_under_the_api_is_json_not_a_page(api_world, key, monkeypatch):
    from intermediaries.api import views

    def broken(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(views.selectors, "dashboard", broken)
    response = Client(raise_request_exception=False).get("/api/v1/dashboard/", **key)
    assert error_of(response, 500)["code"] == "server_error"


# --- conditional GET ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", [CLIENTS, f"{CLIENTS}?status=active", "/api/v1/commissions/accruals/", "/api/v1/signature-requests/"]
)
def test_lists_send_an_etag_and_answer_304_while_it_holds(api_world, key, url):
    first = Client().get(url, **key)
    etag = first["ETag"]
    assert first.status_code == 200 and etag.startswith('"') and first["Cache-Control"] == "private, no-cache"
    assert "Authorization" in first["Vary"]

    again = Client().get(url, HTTP_IF_NONE_MATCH=etag, **key)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    assert Client().get(url, HTTP_IF_NONE_MATCH='"something-else"', **key).status_code == 200


def test_the_etag_of_the_cached_client_list_changes_with_the_data(api_world, key):
    from clients.models import Client as ClientRecord
    from portal.core.versioned_cache import data_changed

    before = Client().get(CLIENTS, **key)["ETag"]
    assert Client().get(CLIENTS, **key)["ETag"] == before  # answered from the cache: the same bytes
    ClientRecord.objects.filter(pk=api_world.book.anna.pk).update(first_name="Annika")
    data_changed()
    after = Client().get(CLIENTS, HTTP_IF_NONE_MATCH=before, **key)
    assert after.status_code == 200 and after["ETag"] != before
    assert "Annika" in after.content.decode()


def test_each_caller_gets_their_own_etag(api_world):
    one = Client().get(CLIENTS, HTTP_AUTHORIZATION=f"Api-Key {api_world.keys['broker1']}")
    three = Client().get(CLIENTS, HTTP_AUTHORIZATION=f"Api-Key {api_world.keys['broker3']}")
    assert one["ETag"] != three["ETag"]
    # broker3's copy is not broker1's: the ETag of one does not validate the other.
    other = Client().get(
        CLIENTS, HTTP_IF_NONE_MATCH=one["ETag"], HTTP_AUTHORIZATION=f"Api-Key {api_world.keys['broker3']}"
    )
    assert other.status_code == 200


# --- empty query values ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "empty"),
    [
        (CLIENTS, "q=&status=&assets_min=&assets_max=&asset_class=&broker=&ordering=&page=&page_size="),
        ("/api/v1/commissions/", "year=&month=&status=&beneficiary="),
        ("/api/v1/commissions/accruals/", "statement=&month=&kind=&client=&asset_class=&date_from=&date_to="),
        ("/api/v1/signature-requests/", "q=&status=&kind="),
        ("/api/v1/dashboard/", "period="),
    ],
)
def test_an_empty_query_value_means_not_given(api_world, key, url, empty):
    def content(response):
        assert response.status_code == 200
        # The page links repeat the query string; what matters is the same rows.
        return {name: value for name, value in response.json().items() if name not in ("next", "previous")}

    assert content(Client().get(f"{url}?{empty}", **key)) == content(Client().get(url, **key))


def test_empty_dates_on_client_endpoints_mean_not_given(api_world, key):
    anna = api_world.book.anna.pk
    for path, empty in [("performance", "from=&to="), ("positions", "date="), ("transactions", "date_from=&type=")]:
        plain = Client().get(f"{CLIENTS}{anna}/{path}/", **key)
        assert Client().get(f"{CLIENTS}{anna}/{path}/?{empty}", **key).json() == plain.json()


# --- timestamps -------------------------------------------------------------------------------


def test_timestamps_are_answered_in_utc_and_pages_keep_local_time(api_world, key, login_as):
    request = api_world.signature_requests["broker1"]
    SignatureRequest.objects.filter(pk=request.pk).update(
        created_at=datetime.datetime(2026, 12, 4, 9, 30, tzinfo=datetime.UTC)
    )
    body = Client().get(reverse("signing-api:request-detail", args=[request.pk]), **key).json()
    assert body["created_at"] == "2026-12-04T09:30:00Z"
    assert body["sent_at"].endswith("Z") and body["expires_at"].endswith("Z")

    page = login_as(api_world.cast.broker1).get(reverse("signing:request-detail", args=[request.pk]))
    assert "10:30" in page.content.decode()  # Europe/Berlin, UTC+1 in December


def test_every_timestamp_of_every_list_is_utc(api_world, key):
    import re

    stamp = re.compile(r'"(\d{4}-\d\d-\d\dT[^"]+)"')
    for url in [CLIENTS, "/api/v1/commissions/", "/api/v1/reports/", "/api/v1/signature-requests/", "/api/v1/me/"]:
        found = stamp.findall(Client().get(url, **key).content.decode())
        assert all(value.endswith("Z") for value in found), (url, found)
    assert stamp.findall(Client().get("/api/v1/reports/", **key).content.decode())


# --- downloads --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        (None, "application/pdf"),
        ("application/pdf", "application/pdf"),
        ("application/octet-stream", "application/octet-stream"),
        ("application/json, application/pdf;q=0.9", "application/pdf"),
    ],
)
def test_a_pdf_download_answers_the_media_type_asked_for(api_world, key, accept, content_type):
    report = api_world.reports["broker1"]
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    response = Client().get(f"/api/v1/reports/{report.pk}/download/", **headers, **key)
    assert response.status_code == 200 and response["Content-Type"] == content_type
    assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_a_commission_statement_pdf_downloads_too(api_world, key):
    response = Client().get(f"/api/v1/commissions/{api_world.statement.pk}/pdf/", HTTP_ACCEPT="application/pdf", **key)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"


def test_a_download_error_is_json_whatever_was_accepted(api_world, key):
    theirs = api_world.reports["broker3"]
    response = Client().get(f"/api/v1/reports/{theirs.pk}/download/", HTTP_ACCEPT="application/pdf", **key)
    assert error_of(response, 404)["code"] == "not_found"
    assert error_of(Client().get(f"/api/v1/reports/{theirs.pk}/download/", HTTP_ACCEPT="text/html", **key), 406)


def test_download_url_is_absolute_like_next(api_world, key):
    report = api_world.reports["broker1"]
    ready_report(broker=api_world.cast.broker1, client=api_world.book.anna)
    listed = Client().get("/api/v1/reports/?page_size=1", **key).json()
    assert listed["next"].startswith("http://testserver/")
    detail = Client().get(f"/api/v1/reports/{report.pk}/", **key).json()
    assert detail["download_url"] == f"http://testserver/api/v1/reports/{report.pk}/download/"


# --- pagination -------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["0", "-1", "abc", "last", "1.5"])
def test_a_page_that_is_not_a_whole_number_from_1_is_a_400(api_world, key, page):
    assert error_of(Client().get(CLIENTS, {"page": page}, **key), 400)["details"] == {
        "page": ["A whole number from 1."]
    }


def test_a_page_past_the_last_is_a_404(api_world, key):
    assert error_of(Client().get(CLIENTS, {"page": "7"}, **key), 404)["code"] == "not_found"
