"""Signals signing sends after a request's outcome is committed; apps above connect to them.

Every signal is sent with `sender=SignatureRequest` and `request` (the SignatureRequest) as
the only argument. The request's `origin` and `external_reference` are what the creating app
set, so a receiver picks its own requests without signing knowing that app:

    from signing.events import request_signed

    def on_signed(sender, request, **kwargs):
        if request.origin == "bnpl.contract":
            contract_mark_signed(contract_id=int(request.external_reference))

    request_signed.connect(on_signed, dispatch_uid="bnpl-contract-signed")

Signals fire once per outcome, after the transaction that made it commits.
"""

from django.db import transaction
from django.dispatch import Signal

request_sent = Signal()
request_signed = Signal()
request_declined = Signal()
request_cancelled = Signal()
request_expired = Signal()
# The back office marked a signed request processed or returned (request.status says which).
request_handled = Signal()


def send_on_commit(signal: Signal, request) -> None:
    from .models import SignatureRequest

    transaction.on_commit(lambda: signal.send(sender=SignatureRequest, request=request))
