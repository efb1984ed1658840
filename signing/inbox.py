"""Signed requests in the back office's work inbox (portal.inbox): one item per request waiting to be
handled, opened when the client signs and closed when the back office marks it processed or returned.

The item's subject, client and link are copied in when it opens, so the inbox lists it without
asking signing anything.
"""

from datetime import timedelta

from django.urls import reverse
from django.utils.translation import gettext_noop

from portal.inbox.services import work_item_close, work_item_open

from .models import SignatureRequest

KIND = "signing.signed_request"
# The back office takes a signed request into the core system within two days of the signature.
HANDLING_TIME = timedelta(days=2)
# Stored untranslated; the inbox shows them in the reader's language.
WAITING_STATE = gettext_noop("Signed")
OUTCOME_STATES = {
    SignatureRequest.Status.PROCESSED: gettext_noop("Processed"),
    SignatureRequest.Status.RETURNED: gettext_noop("Returned"),
}


def signed_request_inbox_open(request: SignatureRequest) -> None:
    """The signed request waits in the inbox (inside the caller's transaction)."""
    work_item_open(
        kind=KIND,
        obj=request,
        subject=str(request),
        party=request.recipient_label or request.recipient.get_full_name() or request.recipient.email,
        url=reverse("signing:backoffice-detail", args=[request.pk]),
        state=WAITING_STATE,
        opened_at=request.signed_at,
        due_at=request.signed_at + HANDLING_TIME if request.signed_at else None,
    )


def signed_request_inbox_close(request: SignatureRequest) -> None:
    """The back office handled the request: its item closes, showing the outcome."""
    work_item_close(kind=KIND, obj=request, state=OUTCOME_STATES.get(request.status))


def signed_requests_inbox_sync() -> int:
    """Open the items of every signed request not handled yet (safe to run twice); returns how many are open."""
    waiting = SignatureRequest.objects.filter(status=SignatureRequest.Status.SIGNED).select_related("recipient")
    count = 0
    for request in waiting.iterator(chunk_size=200):
        signed_request_inbox_open(request)
        count += 1
    return count
