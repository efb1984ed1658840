"""The OpenAPI document's common parts: the API key scheme, the error model and answers, conventions.

`error_responses` is a drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS): it documents
on every operation of /api/v1/ what the kernel does for all of them, so no view has to repeat it.
"""

import math
import re

from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "portal.api.authentication.ApiKeyAuthentication"
    name = "apiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`: a personal API key from the portal's API keys page. "
            "It acts as its owner, narrowed to the key's resource groups (read-only keys get 403 on "
            "writes). Revoked or expired keys get 401.",
        }


class BoundedFilterExtension(DjangoFilterExtension):
    """django-filter parameters with the bounds the filter checks (`minimum`, `maximum`) and a description.

    A NumberFilter's `min_value`/`max_value` are enforced by its form field (a 400 outside them) but
    drf-spectacular leaves them out, and a filter with an `extend_schema_field` type loses its label;
    both are put back here, so the schema says what the server accepts.
    """

    priority = 1

    def resolve_filter_field(self, auto_schema, model, filterset_class, field_name, filter_field):
        parameters = super().resolve_filter_field(auto_schema, model, filterset_class, field_name, filter_field)
        low, high = filter_field.extra.get("min_value"), filter_field.extra.get("max_value")
        description = str(filter_field.extra.get("help_text") or filter_field.label or "")
        for parameter in parameters:
            schema = parameter.get("schema", {})
            if schema.get("type") in ("integer", "number"):
                if low is not None:
                    schema.setdefault("minimum", math.ceil(low))
                if high is not None:
                    # Whole numbers are exact in JSON and in a float alike; the bound rounds inwards.
                    schema.setdefault("maximum", math.floor(high))
            if description and not parameter.get("description"):
                parameter["description"] = description
        return parameters


CONVENTIONS = """

## Conventions

- **Requests** send JSON (`application/json`); the one operation that uploads files, creating a
  signature request, takes `multipart/form-data`. Another content type answers 415, a body over
  the size limits 413.
- **Errors** of every status have one body, the `Error` model:
  `{"error": {"code", "message", "status", "details"}}`. `details` is always an object mapping a
  field name to a list of messages (empty when no field is to blame; `non_field_errors` for the
  request as a whole; a dotted path such as `attachments.0` for a nested field). A method a path
  does not list answers 405 with an `Allow` header, an `Accept` header the operation cannot
  satisfy 406, both in this format.
- **Business rules** that a schema cannot express (a range whose start lies after its end, a
  reference in a body to an object that is not yours) answer 400 naming the field; each
  operation's 400 description lists its rules. An object in the path that is not yours is a 404.
- **Empty query values** (`?month=&status=`, as HTML forms send them) mean "not given": every
  query parameter allows an empty value (`allowEmptyValue`).
- **Sorting**: repeat `ordering` for several keys (`?ordering=-assets&ordering=name`); a leading
  `-` sorts descending.
- **Timestamps** (`format: date-time`) are answered in UTC with a `Z` suffix; dates (`format:
  date`) are calendar days in the portal's time zone (Europe/Berlin), as the business sees them.
- **Caching**: JSON answers to GET carry a strong `ETag`; send it back in `If-None-Match` and an
  unchanged answer is a 304 without a body. Lists have no single modification time, so no
  `Last-Modified` is sent. Answers are `Cache-Control: private, no-cache`.
- **Links** (`next`, `previous`, `download_url`) are absolute URLs.
"""

ERROR_CODES = (
    "`invalid` (400), `parse_error` (400), `not_authenticated` and `authentication_failed` (401), "
    "`permission_denied`, `scope_denied` and `second_factor_required` (403), `not_found` (404), "
    "`method_not_allowed` (405), `not_acceptable` (406), `too_large` (413), `unsupported_media_type` "
    "(415), `throttled` (429), `server_error` (500)"
)
ERROR_BODY_COMPONENT = {
    "type": "object",
    "properties": {
        "code": {
            "type": "string",
            "description": f"What went wrong, for programs: {ERROR_CODES}; new codes may be added.",
            "example": "invalid",
        },
        "message": {"type": "string", "description": "What went wrong, for people (in the caller's language)."},
        "status": {"type": "integer", "minimum": 400, "maximum": 599, "description": "The HTTP status, repeated."},
        "details": {
            "type": "object",
            "description": "Per field, what is wrong: a list of messages for each field name (`non_field_errors` "
            "for the request as a whole, a dotted path for a nested field). Empty when no field is to blame.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "example": {"period_end": ["The last day must not be before the first."]},
        },
    },
    "required": ["code", "message", "status", "details"],
}
ERROR_COMPONENT = {
    "type": "object",
    "description": "Every error of the API, whatever its status, has this shape.",
    "properties": {"error": {"$ref": "#/components/schemas/ErrorBody"}},
    "required": ["error"],
}
ERROR_RESPONSES = {
    "400": "The request has invalid fields or parameters; nothing was changed.",
    "401": "No credentials, or an invalid, expired or revoked API key.",
    "403": "Not allowed: the role, a key's scope (read-only keys on writes) or a missing second factor.",
    "404": "No such object, or not yours to see.",
    "406": "The Accept header names no media type this operation can answer with.",
    "429": "Too many requests with this API key; see Retry-After.",
}
BODY_ERROR_RESPONSES = {
    "413": "The request body (or an uploaded file) is larger than allowed; nothing was changed.",
    "415": "The request body is not in the operation's media type.",
}
ETAG_HEADER = {
    "description": "A strong validator of this answer; send it in If-None-Match to get a 304 while it holds.",
    "required": True,
    "schema": {"type": "string"},
}
IF_NONE_MATCH = {
    "in": "header",
    "name": "If-None-Match",
    "required": False,
    "description": "The ETag of an answer you kept: if it still holds, the answer is 304 without a body.",
    "schema": {"type": "string"},
}
METHODS = ("get", "post", "put", "patch", "delete")


# Headers that come with some errors (DRF sets them): how to authenticate, when to try again.
ERROR_HEADERS = {
    "401": {"WWW-Authenticate": {"description": "The scheme to use: `Api-Key`.", "schema": {"type": "string"}}},
    "429": {"Retry-After": {"description": "Seconds to wait before the next call.", "schema": {"type": "integer"}}},
}


def _error(description: str, status: str = "") -> dict:
    response = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if status in ERROR_HEADERS:
        response["headers"] = ERROR_HEADERS[status]
    return response


def _enum_varname(value: str) -> str:
    """`-assets` → `ASSETS_DESC`: descending sort keys get names, not `VALUE_0`."""
    name = re.sub(r"[^0-9A-Za-z]+", "_", value.removeprefix("-")).strip("_").upper() or "EMPTY"
    return f"{name}_DESC" if value.startswith("-") else name


def _name_signed_enums(node) -> None:
    if isinstance(node, dict):
        enum = node.get("enum")
        if isinstance(enum, list) and any(isinstance(v, str) and v.startswith("-") for v in enum):
            node["x-enum-varnames"] = [_enum_varname(str(v)) for v in enum]
        for value in node.values():
            _name_signed_enums(value)
    elif isinstance(node, list):
        for value in node:
            _name_signed_enums(value)


# Django's form fields and DRF's CharField refuse NUL characters (a 400); the schema says so.
NO_NUL = r"^[^\x00]*$"


def _plain_string(schema: dict) -> bool:
    return schema.get("type") == "string" and not ({"format", "enum", "pattern", "$ref"} & set(schema))


def _refuse_nul_in_request_strings(result: dict) -> None:
    """Free-text query parameters and request body fields get a pattern that leaves out NUL."""
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and _plain_string(parameter.get("schema", {})):
                    parameter["schema"]["pattern"] = NO_NUL
    schemas = result.get("components", {}).get("schemas", {})
    for name, component in schemas.items():
        # COMPONENT_SPLIT_REQUEST names every request body's component "…Request".
        if not name.endswith("Request"):
            continue
        for field in component.get("properties", {}).values():
            if _plain_string(field):
                field["pattern"] = NO_NUL


def _json_200(operation: dict) -> dict | None:
    ok = operation.get("responses", {}).get("200")
    if ok and "application/json" in ok.get("content", {}):
        return ok
    return None


def _document_operation(method: str, operation: dict) -> None:
    responses = operation.setdefault("responses", {})
    # A view may declare a 400 of its own to list its business rules: they follow the generic sentence.
    declared_400 = responses.get("400", {}).get("description", "")
    responses["400"] = _error(f"{ERROR_RESPONSES['400']} {declared_400}".strip())
    for status, description in ERROR_RESPONSES.items():
        responses.setdefault(status, _error(description, status))
    if "requestBody" in operation:
        for status, description in BODY_ERROR_RESPONSES.items():
            responses.setdefault(status, _error(description, status))
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "query":
            parameter["allowEmptyValue"] = True
    ok = _json_200(operation) if method == "get" else None
    if ok is not None:
        ok.setdefault("headers", {})["ETag"] = ETAG_HEADER
        responses.setdefault(
            "304",
            {"description": "Not modified: the If-None-Match ETag still holds.", "headers": {"ETag": ETAG_HEADER}},
        )
        operation.setdefault("parameters", []).append(IF_NONE_MATCH)


def error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: the kernel's behaviour, documented on every operation of /api/v1/."""
    info = result.setdefault("info", {})
    info["description"] = (info.get("description", "") + CONVENTIONS).strip()
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_COMPONENT
    components["ErrorBody"] = ERROR_BODY_COMPONENT
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            if method in METHODS:
                _document_operation(method, operation)
    _name_signed_enums(result)
    _refuse_nul_in_request_strings(result)
    return result
