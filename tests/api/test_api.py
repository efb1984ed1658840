import pytest
from django.urls import reverse
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db


def test_me_describes_the_logged_in_user(cast, login_as):
    response = login_as(cast.broker1).get(reverse("api:me"))
    assert response.status_code == 200
    body = response.json()
    assert body["email"] == "broker1@example.com"
    assert body["roles"] == ["intermediary"]
    assert body["primary_role"] == "intermediary"
    assert body["organisation"]["name"] == "Alpha Invest"
    assert body["second_factor_verified"] is True


def test_me_refuses_anonymous_callers_in_the_common_error_format(client):
    response = client.get(reverse("api:me"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Api-Key realm="api"'
    error = response.json()["error"]
    assert error["code"] == "not_authenticated"
    assert error["message"]
    assert error["status"] == response.status_code


def test_an_unknown_endpoint_answers_404(cast, login_as):
    assert login_as(cast.broker1).get("/api/v1/no-such-thing/").status_code == 404


def test_the_api_refuses_a_session_without_second_factor_for_a_broker(cast, login_as):
    response = login_as(cast.broker1, verified=False).get(reverse("api:me"))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "second_factor_required"


def test_the_openapi_schema_is_valid(client):
    response = client.get(reverse("api-schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)
    assert "/api/v1/me/" in schema["paths"]


def test_the_api_docs_page_loads_its_assets_locally(client):
    response = client.get(reverse("api-docs"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn.jsdelivr" not in html and "unpkg" not in html


@pytest.mark.parametrize("page_size", ["0", "501", "many", "1.5"])
def test_a_bad_page_size_is_refused_not_ignored(cast, login_as, page_size):
    response = login_as(cast.broker1).get("/api/v1/clients/", {"page_size": page_size})
    assert response.status_code == 400
    assert "page_size" in response.json()["error"]["details"]


@pytest.mark.parametrize("path", ["/api/v1/clients/null,null/", "/api/v1/commissions/abc/pdf/", "/api/v2/"])
def test_an_unmatched_api_address_is_a_json_404(cast, login_as, path):
    response = login_as(cast.broker1).get(path)
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "not_found"


def test_a_post_to_an_unmatched_api_address_is_a_json_404_not_a_csrf_page(db):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post("/api/v1/nothing/1/cancel/", {}, content_type="application/json")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
