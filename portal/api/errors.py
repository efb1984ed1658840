"""One error format for the whole API, for every status (see portal.core.errors for the shape).

DRF's own handler decides the status and the headers (WWW-Authenticate on 401, Retry-After on
429, Allow on 405); this one replaces the body. Exceptions DRF leaves to Django are mapped first,
so that they, too, answer in this format instead of an HTML page: a 404 or 403 raised by a
selector, a body larger than the upload limits (413), too many form fields (400), and a model
validation error a view did not catch (400).
"""

from django.core.exceptions import PermissionDenied, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from portal.core.errors import NON_FIELD_ERRORS, error_body, error_details


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"
    default_detail = gettext_lazy("The request body is too large.")


def _as_api_exception(exc):
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, PermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge()
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return exceptions.ParseError(_("The request has too many fields or files."), code="too_many_fields")
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    return exc


def exception_handler(exc, context):
    exc = _as_api_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        details = error_details(exc.detail)
        if not details:
            details = {NON_FIELD_ERRORS: [_("The request is invalid.")]}
        only_general = set(details) == {NON_FIELD_ERRORS}
        message = " ".join(details[NON_FIELD_ERRORS]) if only_general else _("The request has invalid fields.")
        code = "invalid"
    else:
        details = {}
        message = (
            str(exc.detail)
            if not isinstance(exc.detail, dict | list)
            else " ".join(" ".join(messages) for messages in error_details(exc.detail).values())
        )
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
    response.data = error_body(code=code, message=message, status=response.status_code, details=details)
    return response


def error_response(code: str, message: str, http_status: int = status.HTTP_400_BAD_REQUEST, details=None) -> Response:
    """An error answered by an API view without raising (the same body as the handler's)."""
    return Response(error_body(code=code, message=message, status=http_status, details=details), status=http_status)
