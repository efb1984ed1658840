"""The kinds of approval the apps ask for, each with its policy, registered in `AppConfig.ready()`.

The engine knows no app: an app says once, for its kind, who may decide, how many people must
agree, whether a second factor is needed, when it is due and who is alerted, and how its objects
read in a list (`describe`). See docs/approvals.md.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal


class UnknownApprovalKind(LookupError):
    """Nobody registered this kind of approval."""


def _no_maker(obj):
    return None


@dataclass(frozen=True)
class ApprovalPolicy:
    key: str
    model: type
    label: str
    # Any one of these roles may decide (never the maker, never twice).
    approver_roles: frozenset
    approvers_required: int = 1
    second_factor: bool = False
    # ((amount, approvers), ...): an amount at or above `amount` needs `approvers` distinct people.
    thresholds: tuple = ()
    due_after: timedelta | None = None
    # Who hears of a new request: holders of these roles (default: the approver roles) ...
    alert_roles: frozenset | None = None
    # ... or, when given, exactly the users this returns: alert_users(approval) -> iterable of users.
    alert_users: Callable | None = None
    # describe(obj) -> (subject, party, url): what a list, the work inbox and an alert show.
    describe: Callable = field(default=lambda obj: (str(obj), "", ""))
    # maker_of(obj) -> user: who made the case, when the caller does not say.
    maker_of: Callable = _no_maker
    # Deciders must be staff (is_staff) as well as hold an approver role.
    staff_only: bool = True

    def required_for(self, amount: Decimal | None) -> int:
        """How many distinct approvers an amount needs: the policy's number, raised by thresholds."""
        required = self.approvers_required
        if amount is not None:
            for limit, approvers in self.thresholds:
                if amount >= limit:
                    required = max(required, approvers)
        return required

    def may_decide(self, actor) -> bool:
        """The role half of the rule (the maker and the twice rules are the service's)."""
        if actor is None or not actor.is_authenticated or not actor.is_active:
            return False
        if self.staff_only and not actor.is_staff:
            return False
        return actor.has_role(*self.approver_roles)

    @property
    def alerted_roles(self) -> frozenset:
        return self.alert_roles if self.alert_roles is not None else self.approver_roles


_kinds: dict[str, ApprovalPolicy] = {}


def register_approval_kind(
    key: str,
    *,
    model,
    label,
    approver_roles,
    approvers_required: int = 1,
    second_factor: bool = False,
    thresholds=(),
    due_after: timedelta | None = None,
    alert_roles=None,
    alert_users: Callable | None = None,
    describe: Callable | None = None,
    maker_of: Callable | None = None,
    staff_only: bool = True,
    inbox_count_label=None,
    inbox_count_second_factor_for="",
) -> ApprovalPolicy:
    """Make a kind known (registering a key again replaces it: reloads, tests).

    The kind is also a work-inbox kind: its pending approvals wait in the approvers' inbox;
    `inbox_count_label` adds a counter on the back-office home that links there.
    """
    if not key or "." not in key or len(key) > 64:
        raise ValueError(f"Approval kinds look like 'app.thing', got {key!r}.")
    if not approver_roles:
        raise ValueError(f"{key}: name the roles that may approve.")
    if approvers_required < 1:
        raise ValueError(f"{key}: at least one approver is required.")
    cleaned = tuple(sorted((Decimal(str(limit)), int(n)) for limit, n in thresholds))
    if any(n < 1 for _limit, n in cleaned):
        raise ValueError(f"{key}: a threshold needs at least one approver.")
    policy = ApprovalPolicy(
        key=key,
        model=model,
        label=label,
        approver_roles=frozenset(approver_roles),
        approvers_required=approvers_required,
        second_factor=second_factor,
        thresholds=cleaned,
        due_after=due_after,
        alert_roles=frozenset(alert_roles) if alert_roles is not None else None,
        alert_users=alert_users,
        describe=describe or (lambda obj: (str(obj), "", "")),
        maker_of=maker_of or _no_maker,
        staff_only=staff_only,
    )
    _kinds[key] = policy
    from .inbox import approval_inbox_kind_register  # the inbox module needs the models, loaded by now

    approval_inbox_kind_register(
        policy, count_label=inbox_count_label, count_second_factor_for=inbox_count_second_factor_for
    )
    return policy


def unregister_approval_kind(key: str) -> None:
    """For tests that register a kind of their own."""
    from portal.inbox.registry import unregister_inbox_kind

    _kinds.pop(key, None)
    unregister_inbox_kind(key)


def approval_kind(key: str) -> ApprovalPolicy:
    try:
        return _kinds[key]
    except KeyError:
        raise UnknownApprovalKind(key) from None


def approval_kinds() -> list[ApprovalPolicy]:
    return sorted(_kinds.values(), key=lambda p: p.key)


def kinds_decidable_by(actor) -> list[str]:
    """The kinds whose policy lets `actor` decide (by role; the maker rule applies per case)."""
    return [p.key for p in approval_kinds() if p.may_decide(actor)]


def kind_label(key: str) -> str:
    policy = _kinds.get(key)
    return str(policy.label) if policy else key
