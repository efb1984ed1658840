"""Who reaches the collections' objects (runs, their debits, bank statements and their lines, dunning notices).

view: bnpl staff (back office, compliance, credit analysts) everything; a shopper the dunning notices
of their own instalments; merchants nothing (collections are between us and the shopper).
manage (prepare or cancel a run, import a statement, resolve a line, decide a dispute): back office.
"""

from django.db.models import Q

from portal.accounts.roles import Role
from portal.core.policy import ALL, NOTHING, Policy, register_policy

from .models import BankStatement, CollectionItem, CollectionRun, DunningNotice, StatementLine
from .permissions import sees_all_bnpl


def can_manage_collections(actor) -> bool:
    return bool(actor is not None and actor.is_authenticated and actor.is_active and actor.has_role(Role.BACKOFFICE))


def can_view_collections(actor) -> bool:
    return bool(actor is not None and actor.is_authenticated and actor.is_active and sees_all_bnpl(actor))


class _StaffPolicy(Policy):
    actions = ("view", "manage")

    def scope(self, actor, action):
        if action == "manage":
            return ALL if can_manage_collections(actor) else NOTHING
        return ALL if sees_all_bnpl(actor) else NOTHING


class CollectionRunPolicy(_StaffPolicy):
    model = CollectionRun


class CollectionItemPolicy(_StaffPolicy):
    model = CollectionItem


class BankStatementPolicy(_StaffPolicy):
    model = BankStatement


class StatementLinePolicy(_StaffPolicy):
    model = StatementLine


class DunningNoticePolicy(Policy):
    model = DunningNotice

    def scope(self, actor, action):
        if sees_all_bnpl(actor):
            return ALL
        return Q(instalment__plan__order__shopper__user_id=actor.pk)


collection_runs = register_policy(CollectionRunPolicy())
collection_items = register_policy(CollectionItemPolicy())
bank_statements = register_policy(BankStatementPolicy())
statement_lines = register_policy(StatementLinePolicy())
dunning_notices = register_policy(DunningNoticePolicy())
