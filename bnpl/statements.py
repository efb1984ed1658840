"""Bank statements in: camt.053/054 files read, matched to the debits sent, and applied to instalments.

`bank_statement_import(*, actor, data, file_name="")` parses the file (collections.camt), refuses
it whole when it cannot be read or is not a statement of our creditor account (ValidationError,
nothing stored), and otherwise, in one transaction:

- stores the statement once per statement id: the same file again changes nothing and says so;
- matches every line (collections.matching) against the collection items sent with those
  end-to-end ids, in file order, and applies it: a credit marks the instalment paid or partly
  paid (the rest stays open), a debit (the bank returned the direct debit) takes back what the
  debit had credited, puts the instalment back to due (or overdue once its day has passed) and
  keeps the bank's return reason, and the shopper is told (`bnpl.debit_returned`);
- stores each line with its outcome; an unmatched one opens an item in the work inbox (kind
  `bnpl.reconciliation`), where back office assigns it to an instalment by hand
  (`statement_line_assign`) or dismisses it with a reason (`statement_line_dismiss`);
- re-applies the fee status rules to every shopper a payment or a return touched.
"""

from dataclasses import dataclass
from decimal import Decimal
from hashlib import sha256

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, F, IntegerField, Value, When
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from portal.audit.services import audit_record
from portal.inbox.services import work_item_close, work_item_open
from portal.notifications.services import notify

from .collection_permissions import can_manage_collections
from .collection_runs import creditor
from .collections.camt import BankStatementError, parse_bank_statement
from .collections.matching import match_entries
from .fees import fee_status_reevaluate
from .models import BankStatement, CollectionItem, Instalment, Plan, StatementLine

RECONCILIATION_KIND = "bnpl.reconciliation"
OPEN_STATES = (
    Instalment.State.DUE,
    Instalment.State.OVERDUE,
    Instalment.State.PARTLY_PAID,
    Instalment.State.RETURNED,
)
# A credit for a debit whose instalment was cancelled meanwhile (a refund): money to pay back by hand.
INSTALMENT_CLOSED = "instalment_closed"
NOTE_MAX = 500
Outcome = StatementLine.Outcome


@dataclass(frozen=True)
class StatementImport:
    statement: BankStatement
    duplicate: bool  # True: this statement was imported before; nothing changed

    @property
    def message(self) -> str:
        counts = self.statement.counts
        if self.duplicate:
            return _("Statement %(id)s was imported before (%(when)s); nothing was changed.") % {
                "id": self.statement.statement_id,
                "when": timezone.localtime(self.statement.imported_at).strftime("%Y-%m-%d %H:%M"),
            }
        return _(
            "Statement %(id)s imported: %(paid)d paid, %(partly)d partly paid, %(returned)d returned, "
            "%(unmatched)d unmatched (in the work inbox), %(pending)d not booked yet."
        ) % {
            "id": self.statement.statement_id,
            "paid": counts.get("paid", 0),
            "partly": counts.get("partly_paid", 0),
            "returned": counts.get("returned", 0),
            "unmatched": counts.get("unmatched", 0),
            "pending": counts.get("pending", 0),
        }


def bank_statement_import(*, actor, data: bytes, file_name: str = "") -> StatementImport:
    """Read, match and apply one statement (module docstring). `actor` None is the command line."""
    if actor is not None and not can_manage_collections(actor):
        raise PermissionDenied
    try:
        parsed = parse_bank_statement(data)
    except BankStatementError as exc:
        raise ValidationError(
            _("The bank statement cannot be read: %(problem)s") % {"problem": exc}, code="malformed"
        ) from exc
    account = creditor().iban.replace(" ", "").upper()
    if parsed.account_iban != account:
        raise ValidationError(
            _("This is a statement of the account %(iban)s; collections are paid into %(ours)s.")
            % {"iban": parsed.account_iban, "ours": account},
            code="account",
        )
    if len(parsed.statement_id) > 35:
        raise ValidationError(_("The statement id is longer than 35 characters."), code="statement_id")
    today = timezone.localdate()
    with transaction.atomic(durable=True):
        existing = BankStatement.objects.filter(statement_id=parsed.statement_id).first()
        if existing is not None:
            return StatementImport(statement=existing, duplicate=True)
        try:
            with transaction.atomic():
                statement = BankStatement.objects.create(
                    statement_id=parsed.statement_id,
                    kind=parsed.kind,
                    account_iban=parsed.account_iban,
                    issued_at=parsed.created_at
                    if timezone.is_aware(parsed.created_at)
                    else timezone.make_aware(parsed.created_at),
                    file_name=(file_name or "")[:200],
                    sha256=sha256(bytes(data)).hexdigest(),
                    imported_by=actor,
                )
        except IntegrityError:  # a parallel import of the same statement got there first
            return StatementImport(
                statement=BankStatement.objects.get(statement_id=parsed.statement_id), duplicate=True
            )
        lines, touched = _apply(statement, parsed.entries, today=today)
        counts = {outcome: sum(1 for line in lines if line.outcome == outcome) for outcome in Outcome.values}
        statement.counts = {key: value for key, value in counts.items() if value}
        statement.save(update_fields=["counts"])
        for line in lines:
            if line.outcome == Outcome.UNMATCHED:
                _reconciliation_open(line)
        for shopper_id in sorted(touched):
            fee_status_reevaluate(shopper_id=shopper_id, today=today)
        audit_record(
            action="bnpl.bank_statement_imported",
            actor=actor,
            actor_label="" if actor else "import_bank_statement",
            obj=statement,
            changes={"statement_id": statement.statement_id, "kind": statement.kind, **statement.counts},
        )
    return StatementImport(statement=statement, duplicate=False)


def _apply(statement: BankStatement, entries, *, today) -> tuple[list[StatementLine], set[int]]:
    """Match `entries` and apply them in file order; returns the stored lines and the shoppers touched."""
    ids = {entry.end_to_end_id for entry in entries if entry.end_to_end_id}
    items = {
        item.end_to_end_id: item
        for item in CollectionItem.objects.select_for_update()
        .filter(end_to_end_id__in=ids)
        .exclude(state=CollectionItem.State.CANCELLED)
    }
    instalments = (
        Instalment.objects.select_for_update(of=("self",))
        .select_related("plan__order__shopper__user", "plan__order__merchant")
        .in_bulk([item.instalment_id for item in items.values()])
    )
    result = match_entries(
        entries, {key: (item.amount - item.paid_amount, item.currency) for key, item in items.items()}
    )
    outcome_of = {}
    for payment in result.paid + result.partly_paid:
        outcome_of[id(payment.entry)] = ("pay", payment.end_to_end_id, "")
    for returned in result.returned:
        outcome_of[id(returned.entry)] = ("return", returned.end_to_end_id, returned.reason_code or "")
    for unmatched in result.unmatched:
        outcome_of[id(unmatched.entry)] = ("unmatched", None, unmatched.reason)
    lines, touched, plans = [], set(), {}
    for entry in entries:
        action, key, reason = outcome_of.get(id(entry), ("pending", None, ""))
        line = StatementLine(
            statement=statement,
            entry_number=entry.entry_number,
            entry_reference=(entry.entry_reference or "")[:100],
            booking_date=entry.booking_date,
            amount=entry.amount,
            currency=entry.currency,
            credit_debit=entry.credit_debit,
            end_to_end_id=(entry.end_to_end_id or "")[:35],
            remittance=entry.remittance[:500],
            debtor_name=(entry.debtor_name or "")[:140],
            debtor_iban=(entry.debtor_iban or "")[:34],
            outcome=Outcome.PENDING if action == "pending" else Outcome.UNMATCHED,
            reason=reason[:32],
        )
        if key is not None:
            item = items[key]
            instalment = instalments[item.instalment_id]
            line.item, line.instalment = item, instalment
            if action == "pay" and instalment.state == Instalment.State.CANCELLED:
                line.outcome, line.reason = Outcome.UNMATCHED, INSTALMENT_CLOSED
            elif action == "pay":
                _item_credit(item, entry.amount)
                instalment_pay(instalment, entry.amount)
                line.outcome = Outcome.PAID if instalment.state == Instalment.State.PAID else Outcome.PARTLY_PAID
            else:
                _instalment_return(item, instalment, entry.amount, reason, today=today)
                line.outcome = Outcome.RETURNED
                _return_tell(item, instalment, entry.amount, reason, statement)
            if line.outcome != Outcome.UNMATCHED:
                touched.add(instalment.plan.order.shopper_id)
                plans[instalment.plan_id] = instalment.plan
        lines.append(line)
    CollectionItem.objects.bulk_update(items.values(), ["paid_amount", "state", "return_reason"])
    Instalment.objects.bulk_update(instalments.values(), ["paid_amount", "state", "return_reason"])
    for plan in plans.values():
        plan_settle(plan)
    return StatementLine.objects.bulk_create(lines), touched


def _item_credit(item: CollectionItem, amount: Decimal) -> None:
    item.paid_amount += amount
    item.state = CollectionItem.State.PAID if item.paid_amount >= item.amount else CollectionItem.State.PARTLY_PAID


def instalment_pay(instalment: Instalment, amount: Decimal) -> None:
    """Credit `amount` to the instalment (the caller holds its lock and saves it)."""
    instalment.paid_amount += amount
    instalment.return_reason = ""
    paid = instalment.paid_amount >= instalment.amount
    instalment.state = Instalment.State.PAID if paid else Instalment.State.PARTLY_PAID


def _instalment_return(item, instalment, amount: Decimal, reason: str, *, today) -> None:
    """The bank sent the debit back: what it had credited is taken back, the instalment is open again."""
    taken_back = min(amount, item.paid_amount)
    item.paid_amount -= taken_back
    item.state = CollectionItem.State.RETURNED
    item.return_reason = reason[:8]
    if instalment.state == Instalment.State.CANCELLED:
        return
    instalment.paid_amount -= min(taken_back, instalment.paid_amount)
    instalment.return_reason = (reason or "NONE")[:8]
    instalment.state = Instalment.State.OVERDUE if instalment.due_date < today else Instalment.State.DUE
    if instalment.paid_amount > 0:
        instalment.state = Instalment.State.PARTLY_PAID


def _return_tell(item, instalment, amount: Decimal, reason: str, statement) -> None:
    """The shopper hears that their bank sent the debit back, and what is open now (through the outbox)."""
    if instalment.state == Instalment.State.CANCELLED:
        return
    order = instalment.plan.order
    notify(
        user=order.shopper.user,
        event="bnpl.debit_returned",
        context={
            "reference": order.reference,
            "shop": order.merchant.trading_name,
            "number": instalment.number,
            "amount": amount,
            "currency": item.currency,
            "reason": reason,
            "open": instalment.amount - instalment.paid_amount,
        },
        idempotency_key=f"bnpl.debit_returned:{item.pk}:{statement.pk}",
    )


def plan_settle(plan: Plan) -> None:
    """An active plan with nothing open is completed; a completed one that is owed money again is active."""
    open_left = plan.instalments.filter(state__in=OPEN_STATES).exists()
    if plan.state == Plan.State.ACTIVE and not open_left:
        plan.state = Plan.State.COMPLETED
    elif plan.state == Plan.State.COMPLETED and open_left:
        plan.state = Plan.State.ACTIVE
    else:
        return
    Plan.objects.filter(pk=plan.pk).update(state=plan.state)


def _reconciliation_open(line: StatementLine) -> None:
    work_item_open(
        kind=RECONCILIATION_KIND,
        obj=line,
        subject=f"{line.credit_debit} {line.amount} {line.currency} · {line.remittance or line.entry_reference}",
        party=line.debtor_name,
        url=reverse("bnpl:statement-line", args=[line.pk]),
        state=gettext_noop("Unmatched"),
    )


# --- the reconciliation queue -------------------------------------------------------------------


def _line_locked(*, actor, line_id) -> StatementLine:
    if not can_manage_collections(actor):
        raise PermissionDenied
    try:
        line = StatementLine.objects.select_for_update().filter(pk=int(line_id)).first()
    except (TypeError, ValueError):
        line = None
    if line is None:
        raise Http404
    if line.outcome != Outcome.UNMATCHED:
        raise ValidationError(
            _("This line is resolved already (%(outcome)s).") % {"outcome": line.get_outcome_display()}
        )
    return line


def _note_clean(note: str, *, required: bool) -> str:
    note = " ".join((note or "").split())
    if required and not note:
        raise ValidationError({"note": _("Say why the line is dismissed.")})
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": _("Write at most %(max)d characters.") % {"max": NOTE_MAX}})
    return note


def statement_line_assign(*, actor, line_id, instalment_id, note: str = "") -> StatementLine:
    """Back office books an unmatched credit on an instalment (paid, or partly paid with the rest open)."""
    note = _note_clean(note, required=False)
    with transaction.atomic(durable=True):
        line = _line_locked(actor=actor, line_id=line_id)
        if line.credit_debit != "CRDT":
            raise ValidationError(_("Only a credit can pay an instalment; dismiss a debit with a reason."))
        instalment = (
            Instalment.objects.select_for_update(of=("self",))
            .select_related("plan__order")
            .filter(pk=instalment_id, plan__state__in=(Plan.State.ACTIVE, Plan.State.COMPLETED))
            .first()
            if str(instalment_id or "").isdigit()
            else None
        )
        if instalment is None or instalment.state not in OPEN_STATES:
            raise ValidationError({"instalment": _("Choose an instalment that is still open.")})
        if instalment.plan.currency != line.currency:
            raise ValidationError({"instalment": _("The instalment is in another currency than the line.")})
        open_amount = instalment.amount - instalment.paid_amount
        if line.amount > open_amount:
            raise ValidationError(
                {
                    "instalment": _("The line is %(amount)s %(currency)s but only %(open)s is open on this instalment.")
                    % {"amount": line.amount, "currency": line.currency, "open": open_amount}
                }
            )
        before = instalment.state
        instalment_pay(instalment, line.amount)
        instalment.save(update_fields=["paid_amount", "state", "return_reason"])
        plan_settle(instalment.plan)
        line.outcome, line.instalment = Outcome.ASSIGNED, instalment
        line.resolution_note, line.resolved_by, line.resolved_at = note, actor, timezone.now()
        line.save(update_fields=["outcome", "instalment", "resolution_note", "resolved_by", "resolved_at"])
        work_item_close(kind=RECONCILIATION_KIND, obj=line, state=gettext_noop("Assigned"))
        fee_status_reevaluate(shopper_id=instalment.plan.order.shopper_id)
        audit_record(
            action="bnpl.statement_line_assigned",
            actor=actor,
            obj=line,
            changes={
                "instalment": instalment.pk,
                "order": instalment.plan.order.reference,
                "amount": str(line.amount),
                "instalment_state": [before, instalment.state],
                "note": note,
            },
        )
    return line


def statement_line_dismiss(*, actor, line_id, note: str) -> StatementLine:
    """Back office closes an unmatched line that pays no instalment (a wrong transfer, a bank fee), saying why."""
    note = _note_clean(note, required=True)
    with transaction.atomic(durable=True):
        line = _line_locked(actor=actor, line_id=line_id)
        line.outcome = Outcome.DISMISSED
        line.resolution_note, line.resolved_by, line.resolved_at = note, actor, timezone.now()
        line.save(update_fields=["outcome", "resolution_note", "resolved_by", "resolved_at"])
        work_item_close(kind=RECONCILIATION_KIND, obj=line, state=gettext_noop("Dismissed"))
        audit_record(action="bnpl.statement_line_dismissed", actor=actor, obj=line, changes={"note": note})
    return line


def line_candidates(line: StatementLine, *, limit: int = 20) -> list[Instalment]:
    """Open instalments this credit could pay: the order named in the remittance first, then the exact amount."""
    rows = list(
        Instalment.objects.filter(
            state__in=OPEN_STATES,
            plan__state=Plan.State.ACTIVE,
            plan__currency=line.currency,
            amount__gte=F("paid_amount") + line.amount,
        )
        .annotate(
            exact=Case(
                When(amount=F("paid_amount") + line.amount, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .select_related("plan__order__shopper__user")
        .order_by("exact", "due_date", "pk")[:200]
    )
    remittance = (line.remittance or "").upper()
    rows.sort(key=lambda row: (row.plan.order.reference.upper() not in remittance, row.exact, row.due_date))
    return rows[:limit]
