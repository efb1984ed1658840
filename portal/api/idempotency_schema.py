"""drf-spectacular postprocessing hook: `Idempotency-Key` and its 409 on every POST of /api/v1/.

Kept apart from schema.py so that the documentation stays next to no view: the behaviour is the
kernel's (portal/api/idempotency.py) and applies to every POST, so the hook adds it everywhere.
"""

PARAMETER = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
    "description": (
        "Any unique value (a UUID, say), 1 to 255 printable ASCII characters, else 400. Send the same "
        "request again with the same key and get the first answer back (marked `Idempotent-Replayed: "
        "true`) without it running twice; the same key with another method, path, query or body "
        "answers 409. Keys belong to the caller (the API key, or the session user) and are kept 24 hours."
    ),
}
CONFLICT_DESCRIPTION = (
    "The Idempotency-Key was used before for a different request (`idempotency_key_reused`); or the "
    "first request with it is still running (`idempotency_in_progress`, see Retry-After); or it did "
    "not finish and its outcome is unknown (`idempotency_outcome_unknown`). Nothing was run."
)
REPLAYED_HEADER = {
    "description": "`true` when this is the stored answer to an earlier request with the same Idempotency-Key.",
    "schema": {"type": "string", "enum": ["true"]},
}
ERROR_SHAPE = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "status": {"type": "integer"}},
            "required": ["code", "message"],
        }
    },
    "required": ["error"],
}


def idempotency_documented(result, generator, request, public):
    """Runs after the common error answers hook, so their `Error` component can be referenced."""
    schemas = result.get("components", {}).get("schemas", {})
    error_schema = {"$ref": "#/components/schemas/Error"} if "Error" in schemas else ERROR_SHAPE
    for path, operations in result.get("paths", {}).items():
        operation = operations.get("post") if path.startswith("/api/v1/") else None
        if operation is None:
            continue
        parameters = operation.setdefault("parameters", [])
        if not any(p.get("in") == "header" and p.get("name", "").lower() == "idempotency-key" for p in parameters):
            parameters.append(dict(PARAMETER))
        responses = operation.setdefault("responses", {})
        responses.setdefault(
            "409", {"description": CONFLICT_DESCRIPTION, "content": {"application/json": {"schema": error_schema}}}
        )
        for code, response in responses.items():
            if str(code).startswith("2") and isinstance(response, dict):
                response.setdefault("headers", {}).setdefault("Idempotent-Replayed", dict(REPLAYED_HEADER))
    return result
