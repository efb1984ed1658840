"""What exactly is signed: a canonical document of the request's fields and attachments, and its hash.

The hash covers every field the client sees and every attachment's bytes (through their
SHA-256), so any change to either gives another hash. A one-time code is bound to this hash
(dynamic linking): a code issued for one content never signs another.
"""

import hashlib
import json

FORMAT = "partnerzone-signature-request/1"
CHUNK = 1024 * 1024


def file_sha256(fileobj) -> str:
    """The SHA-256 of an open file's bytes, read in chunks from the start."""
    digest = hashlib.sha256()
    if hasattr(fileobj, "seek"):
        fileobj.seek(0)
    for chunk in iter(lambda: fileobj.read(CHUNK), b""):
        digest.update(chunk)
    return digest.hexdigest()


def content_document(request, attachments) -> dict:
    """The canonical content of a request: what the client sees, in a form that hashes the same every time."""
    document = {
        "format": FORMAT,
        "reference": str(request.uuid),
        "kind": request.kind,
        "recipient": request.recipient_id,
        "sender": request.sender_id,
        "title": request.title,
        "message": request.message,
        "attachments": [
            {"name": a.name, "content_type": a.content_type, "size": a.size, "sha256": a.sha256} for a in attachments
        ],
    }
    if request.kind == "fund_transfer":
        document["transfer"] = {
            "amount": _amount(request.amount),
            "currency": request.currency,
            "portfolio": {"reference": request.portfolio_reference, "label": request.portfolio_label},
            "payee_name": request.payee_name,
            "payee_iban": request.payee_iban,
            "payment_reference": request.payment_reference,
        }
    elif request.kind == "product_subscription":
        document["subscription"] = {
            "product": request.product_name,
            "amount": _amount(request.amount),
            "currency": request.currency,
            "portfolio": {"reference": request.portfolio_reference, "label": request.portfolio_label},
        }
    return document


def document_hash(document: dict) -> str:
    """SHA-256 over the document as sorted, compact UTF-8 JSON."""
    data = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.sha256(data).hexdigest()


def request_content_hash(request) -> str:
    """The hash of the request's stored fields and its attachments' recorded SHA-256 values."""
    return document_hash(content_document(request, list(request.attachments.all())))


def fingerprint(content_hash: str) -> str:
    """A short, readable form of the hash: the first 64 bits in four groups, e.g. 3F2A 9C1D 0B7E 44A1."""
    head = content_hash[:16].upper()
    return " ".join(head[i : i + 4] for i in range(0, len(head), 4))


def _amount(value) -> str | None:
    """Amounts as fixed two-place strings: 1000, 1000.0 and 1000.00 are the same money."""
    if value is None:
        return None
    return f"{value:.2f}"
