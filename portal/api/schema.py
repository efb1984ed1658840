"""The API key scheme in the OpenAPI document (imported by the app's ready())."""

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


ERROR_COMPONENT = {
    "type": "object",
    "description": "Every error of the API has this shape.",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "example": "not_found"},
                "message": {"type": "string"},
                "status": {"type": "integer"},
                "details": {"description": "Per field, what is wrong (400 only)."},
            },
            "required": ["code", "message"],
        }
    },
    "required": ["error"],
}
ERROR_RESPONSES = {
    "400": "The request has invalid fields or parameters; nothing was changed.",
    "401": "No credentials, or an invalid, expired or revoked API key.",
    "403": "Not allowed: the role, a key's scope (read-only keys on writes) or a missing second factor.",
    "404": "No such object, or not yours to see.",
    "429": "Too many requests with this API key; see Retry-After.",
}


def error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: the common error answers on every operation of /api/v1/."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_COMPONENT
    reference = {"$ref": "#/components/schemas/Error"}
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_RESPONSES.items():
                responses.setdefault(
                    status, {"description": description, "content": {"application/json": {"schema": reference}}}
                )
    return result
