"""Signals the approval engine sends; apps connect to them in their `AppConfig.ready()`.

Both are sent INSIDE the transaction that wrote the change, so a receiver's writes commit or roll
back with it (a receiver that raises undoes the decision):

- `approval_requested(sender=Approval, approval)`: a new approval is pending.
- `approval_decided(sender=Approval, approval, outcome, actor, decision)`: the approval reached a
  final state. `outcome` is the new `approval.state` ("approved", "rejected", "withdrawn",
  "expired"); `actor` is who decided (None for expiry); `decision` the ApprovalDecision row.
  A first approval of a two-approver kind is not an outcome and sends nothing.

A receiver picks its own kind:

    def on_decided(sender, approval, outcome, actor, **kwargs):
        if approval.kind != "commissions.statement":
            return
        ...
"""

from django.dispatch import Signal

approval_requested = Signal()
approval_decided = Signal()
