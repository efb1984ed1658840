"""The conversation on a signature request: a thread on the request (portal.threads).

- staff side: whoever follows the request by the signing policy — the sending broker, their firm's
  manager, back office (reads and writes, internal notes included: a clerk's note on a hand-over);
- customer side: the addressed client once the request was sent (reads and writes, never a note).
"""

from django.urls import reverse

from .models import SignatureRequest
from .permissions import requests


def _is_customer(actor, request: SignatureRequest) -> bool:
    return request.recipient_id == actor.pk and requests.has(actor, request, "sign")


def request_thread_can_read(actor, request: SignatureRequest) -> bool:
    return requests.has(actor, request, "follow") or _is_customer(actor, request)


def request_thread_is_staff_side(actor, request: SignatureRequest) -> bool:
    return requests.has(actor, request, "follow")


def request_thread_participants(request: SignatureRequest) -> list:
    """Told of new messages: the sending broker and the client (back office reads it in its inbox)."""
    return [user for user in (request.sender, request.recipient) if user is not None]


def request_thread_url(request: SignatureRequest, actor) -> str:
    if actor is not None and _is_customer(actor, request) and not requests.has(actor, request, "follow"):
        return reverse("signing:inbox-detail", args=[request.pk]) + "#thread"
    if actor is not None and requests.has(actor, request, "handle"):
        return reverse("signing:backoffice-detail", args=[request.pk]) + "#thread"
    return reverse("signing:request-detail", args=[request.pk]) + "#thread"


def request_thread_rows():
    return SignatureRequest.objects.select_related("sender", "recipient")
