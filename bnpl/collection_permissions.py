"""Who reaches the collections' objects (runs, their debits, bank statements and their lines, dunning notices).

view: bnpl staff (back office, compliance, credit analysts) everything; a shopper the dunning notices
of their own instalments; merchants nothing (collections are between us and the shopper).
manage (prepare or cancel a run, import a statement, resolve a line, decide a dispute): back office.
"""

from django.db.models import Q

from portal.core.policy import ALL, Policy, register_policy

from .fees_permissions import StaffOnlyPolicy, can_manage_fees
from .models import BankStatement, CollectionItem, CollectionRun, DunningNotice, StatementLine
from .permissions import sees_all_bnpl


def can_manage_collections(actor) -> bool:
    # The same people as the fee module's managers: back office.
    return actor is not None and can_manage_fees(actor)


def can_view_collections(actor) -> bool:
    return bool(actor is not None and actor.is_authenticated and actor.is_active and sees_all_bnpl(actor))


class CollectionRunPolicy(StaffOnlyPolicy):
    model = CollectionRun


class CollectionItemPolicy(StaffOnlyPolicy):
    model = CollectionItem


class BankStatementPolicy(StaffOnlyPolicy):
    model = BankStatement


class StatementLinePolicy(StaffOnlyPolicy):
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
