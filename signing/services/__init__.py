"""Writes: write, change, send, cancel, read, code, sign, decline, hand over, expire.

Each function takes keyword arguments, runs in one transaction, re-checks permission and
state on the locked rows inside it, appends an audit event for every state change, writes
notifications (outbox rows) in the same transaction, and sends signals after the commit.
A refusal raises ValidationError (a translated message and a code) or PermissionDenied; a
foreign request raises Http404, as it does not exist for the actor.

The sender's side is in `sender_side`, the client's side (codes, signing) in `client_side`, the
back office and periodic work in `back_office`; `common` has what they share.
"""

from .back_office import (
    HANDLING_OUTCOMES,
    signature_request_handle,
    signature_requests_expire,
    signing_challenges_expire_stale,
)
from .client_side import (
    CodeRefused,
    CodeSent,
    signature_request_decline,
    signature_request_mark_viewed,
    signature_request_sign,
    signed_pdf_mark_downloaded,
    signing_code_request,
)
from .common import MAX_TEXT
from .sender_side import (
    ATTACHMENT_KINDS,
    CONTENT_FIELDS,
    signature_attachment_add,
    signature_attachment_remove,
    signature_request_cancel,
    signature_request_create,
    signature_request_send,
    signature_request_update,
)

__all__ = [
    "ATTACHMENT_KINDS",
    "CONTENT_FIELDS",
    "HANDLING_OUTCOMES",
    "MAX_TEXT",
    "CodeRefused",
    "CodeSent",
    "signature_attachment_add",
    "signature_attachment_remove",
    "signature_request_cancel",
    "signature_request_create",
    "signature_request_decline",
    "signature_request_handle",
    "signature_request_mark_viewed",
    "signature_request_send",
    "signature_request_sign",
    "signature_request_update",
    "signature_requests_expire",
    "signed_pdf_mark_downloaded",
    "signing_challenges_expire_stale",
    "signing_code_request",
]
