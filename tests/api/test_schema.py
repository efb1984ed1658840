"""The OpenAPI document as generators read it: one request format per operation, every status and
filter documented, typed errors, named enums, binary downloads, nullable rather than blank values."""

import json

import pytest
from django.urls import reverse
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def schema(client):
    document = client.get(reverse("api-schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    validate_schema(document)
    return document


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def test_every_operation_takes_one_request_format(schema):
    formats = {
        (method, path): list(operation["requestBody"]["content"])
        for path, method, operation in operations(schema)
        if "requestBody" in operation
    }
    assert formats == {
        ("post", "/api/v1/approvals/{approval_id}/approve/"): ["application/json"],
        ("post", "/api/v1/approvals/{approval_id}/reject/"): ["application/json"],
        ("post", "/api/v1/bnpl/buttons/"): ["application/json"],
        ("patch", "/api/v1/bnpl/buttons/{button_id}/"): ["application/json"],
        ("post", "/api/v1/bnpl/orders/{order_id}/cancel/"): ["application/json"],
        ("post", "/api/v1/bnpl/orders/{order_id}/capture/"): ["application/json"],
        ("post", "/api/v1/bnpl/orders/{order_id}/refund/"): ["application/json"],
        ("post", "/api/v1/bnpl/orders/{order_id}/ship/"): ["application/json"],
        ("post", "/api/v1/bnpl/sessions/"): ["application/json"],
        ("patch", "/api/v1/bnpl/sessions/{session_id}/"): ["application/json"],
        ("post", "/api/v1/reports/"): ["application/json"],
        ("post", "/api/v1/signature-requests/"): ["multipart/form-data"],
        ("post", "/api/v1/signature-requests/{request_id}/cancel/"): ["application/json"],
    }


def test_every_status_the_kernel_can_answer_is_documented_with_the_error_model(schema):
    reference = {"$ref": "#/components/schemas/Error"}
    for path, method, operation in operations(schema):
        statuses = {"400", "401", "403", "404", "406", "429"}
        if "requestBody" in operation:
            statuses |= {"413", "415"}
        responses = operation["responses"]
        assert statuses <= set(responses), (method, path)
        for status in statuses:
            assert responses[status]["content"]["application/json"]["schema"] == reference, (method, path, status)
        assert "Retry-After" in responses["429"]["headers"] and "WWW-Authenticate" in responses["401"]["headers"]
    assert "405" in schema["info"]["description"]


def test_the_error_model_is_typed_with_one_shape_of_details(schema):
    components = schema["components"]["schemas"]
    assert components["Error"]["required"] == ["error"]
    body = components["ErrorBody"]
    assert set(body["required"]) == {"code", "message", "status", "details"}
    assert body["properties"]["details"] == {
        **body["properties"]["details"],
        "type": "object",
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
    }


def test_business_rules_are_documented_on_their_400(schema):
    paths = schema["paths"]
    assert "client_id" in paths["/api/v1/reports/"]["post"]["responses"]["400"]["description"]
    assert (
        "`from` after `to`"
        in paths["/api/v1/clients/{client_id}/performance/"]["get"]["responses"]["400"]["description"]
    )
    assert "`recipient`" in paths["/api/v1/signature-requests/"]["post"]["responses"]["400"]["description"]


def test_every_query_parameter_allows_an_empty_value(schema):
    for path, method, operation in operations(schema):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query":
                assert parameter.get("allowEmptyValue") is True, (method, path, parameter["name"])


def test_the_signature_request_filters_are_in_the_schema(schema):
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/signature-requests/"]["get"]["parameters"]}
    assert {"status", "kind", "q"} <= set(parameters)
    assert "signed" in parameters["status"]["schema"]["enum"]


def test_bounds_the_filters_check_are_in_the_schema(schema):
    parameters = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/clients/"]["get"]["parameters"]}
    assert parameters["assets_min"] == {"type": "number", "minimum": 0, "maximum": 999999999999999999}
    assert parameters["assets_max"]["minimum"] == 0
    accruals = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/commissions/accruals/"]["get"]["parameters"]}
    assert accruals["statement"]["minimum"] == 1


def test_ordering_is_a_repeated_parameter_with_named_enum_values(schema):
    (ordering,) = [p for p in schema["paths"]["/api/v1/clients/"]["get"]["parameters"] if p["name"] == "ordering"]
    assert (ordering["style"], ordering["explode"]) == ("form", True)
    items = ordering["schema"]["items"]
    names = dict(zip(items["enum"], items["x-enum-varnames"], strict=True))
    assert names["-assets"] == "ASSETS_DESC" and names["name"] == "NAME"


def test_pdf_downloads_are_binary_under_both_media_types(schema):
    for path in ("/api/v1/reports/{report_id}/download/", "/api/v1/commissions/{statement_id}/pdf/"):
        content = schema["paths"][path]["get"]["responses"]["200"]["content"]
        assert content == {
            "application/pdf": {"schema": {"type": "string", "format": "binary"}},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        }


def test_a_blank_email_is_a_nullable_email_not_a_union(schema):
    email = schema["components"]["schemas"]["ClientDetail"]["properties"]["email"]
    assert (email["type"], email["format"], email["nullable"]) == ("string", "email", True)
    assert "oneOf" not in json.dumps(schema["components"]["schemas"]["ClientDetail"])


def test_download_url_is_an_absolute_uri(schema):
    field = schema["components"]["schemas"]["Report"]["properties"]["download_url"]
    assert (field["format"], field["nullable"]) == ("uri", True)


def test_json_answers_to_get_document_their_etag_and_304(schema):
    for path, method, operation in operations(schema):
        ok = operation["responses"].get("200", {})
        if method == "get" and "application/json" in ok.get("content", {}):
            assert ok["headers"]["ETag"]["required"] is True, path
            assert "304" in operation["responses"], path
            assert any(p["name"] == "If-None-Match" and p["in"] == "header" for p in operation["parameters"]), path


def test_the_conventions_are_in_the_description(schema):
    description = schema["info"]["description"]
    for words in ("UTC", "`Z`", "ETag", "allowEmptyValue", "ordering=-assets&ordering=name", "`details`"):
        assert words in description
