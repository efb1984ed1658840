"""One error body for every JSON error the portal sends: the API, htmx fragments and pages alike.

    {"error": {"code": "invalid", "message": "…", "status": 400, "details": {"field": ["…", …]}}}

`code` is a short machine-readable word (`invalid`, `not_found`, `permission_denied`, …),
`message` a translated sentence for a person, `status` the HTTP status repeated, and `details`
always an object mapping a field name to a list of messages: empty when no field is to blame,
`non_field_errors` for what concerns the request as a whole, and a dotted path for a nested
field (`attachments.0`). A client therefore parses one shape whatever went wrong.

The API's exception handler (`portal.api.errors`) builds its answers with these functions; a
page or an htmx view that answers in JSON uses `error_json_response`, with `form_error_details`
for a bound form or filter set.
"""

from collections.abc import Mapping

from django.http import JsonResponse

NON_FIELD_ERRORS = "non_field_errors"


def _messages(value) -> list[str]:
    """A flat list of messages from a string, a list of them, or a Django ValidationError."""
    if isinstance(value, str):
        return [value]
    if hasattr(value, "messages"):  # django.core.exceptions.ValidationError
        return [str(message) for message in value.messages]
    if isinstance(value, list | tuple):
        return [message for item in value for message in _messages(item)]
    return [str(value)]


def error_details(detail) -> dict[str, list[str]]:
    """`detail` (a dict, list or string, possibly nested) as {field: [message, …]}.

    Django's `__all__` and DRF's `non_field_errors` both become `non_field_errors`; a nested
    dict (a list field's items, a nested object) becomes dotted keys such as `attachments.0`.
    """
    if detail is None or detail == {} or detail == []:
        return {}
    if not isinstance(detail, Mapping):
        return {NON_FIELD_ERRORS: _messages(detail)}
    details: dict[str, list[str]] = {}
    for name, value in detail.items():
        key = NON_FIELD_ERRORS if name in ("__all__", NON_FIELD_ERRORS) else str(name)
        if isinstance(value, Mapping):
            for inner, messages in error_details(value).items():
                nested = key if inner == NON_FIELD_ERRORS else f"{key}.{inner}"
                details.setdefault(nested, []).extend(messages)
        elif isinstance(value, list | tuple) and any(isinstance(item, Mapping) for item in value):
            # A list of nested objects: each item's errors under its index.
            for index, item in enumerate(value):
                for inner, messages in error_details(item).items():
                    nested = f"{key}.{index}" if inner == NON_FIELD_ERRORS else f"{key}.{index}.{inner}"
                    details.setdefault(nested, []).extend(messages)
        else:
            details.setdefault(key, []).extend(_messages(value))
    return details


def form_error_details(form) -> dict[str, list[str]]:
    """The errors of a bound Django form or django-filter FilterSet in the `details` shape."""
    errors = form.errors
    return error_details({name: list(messages) for name, messages in errors.items()})


def error_body(*, code: str, message: str, status: int, details=None) -> dict:
    """The JSON body of an error; `details` may be anything `error_details` understands."""
    return {"error": {"code": code, "message": str(message), "status": status, "details": error_details(details)}}


def error_json_response(*, code: str, message: str, status: int, details=None, headers=None) -> JsonResponse:
    """An error answered in JSON by a page or an htmx view, in the same shape as the API's."""
    return JsonResponse(
        error_body(code=code, message=message, status=status, details=details), status=status, headers=headers
    )
