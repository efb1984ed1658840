"""Conditional GET for the API: an ETag on every JSON answer to GET, and 304 when it still holds.

The ETag is a hash of the body as sent, so it changes exactly when the answer does, whatever
produced it (a fresh query or the client list's per-data-version cache): a client that sends
`If-None-Match` with the last ETag gets `304 Not Modified` and no body. Answers also carry
`Cache-Control: private, no-cache` (a shared cache must not keep one caller's data, and a client
revalidates before reusing what it kept) and `Vary: Authorization`, since the body depends on the
key. Lists have no single modification time, so no Last-Modified is sent.
"""

import hashlib

from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import quote_etag

API_PREFIX = "/api/v1/"


def _json(response) -> bool:
    return response.get("Content-Type", "").split(";")[0].strip() == "application/json"


class ApiConditionalGetMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.method not in ("GET", "HEAD")
            or not request.path.startswith(API_PREFIX)
            or response.status_code != 200
            or response.streaming
            or not _json(response)
        ):
            return response
        if not response.has_header("ETag"):
            response["ETag"] = quote_etag(hashlib.sha256(response.content).hexdigest()[:40])
        response.setdefault("Cache-Control", "private, no-cache")
        patch_vary_headers(response, ("Authorization",))
        return get_conditional_response(request, etag=response["ETag"], response=response)
