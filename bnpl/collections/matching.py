"""Which bank statement lines pay, partly pay or return which expected collection (pure).

`match_entries(entries, expected)` takes the `StatementEntry`s of a parsed statement and the
collections still expected, keyed by the end-to-end id sent in the pain.008 file, each with the
amount still outstanding and its currency. It sorts every entry into exactly one list:

- **paid**: a booked credit (CRDT, not a reversal) whose end-to-end id is expected, in the
  expected currency, for exactly the amount still outstanding.
- **partly_paid**: the same, for less than the amount still outstanding; it carries the amount
  received and what remains outstanding afterwards.
- **returned**: a booked debit (DBIT, reversal or not) whose end-to-end id is expected: a direct
  debit the debtor's bank sent back (R-transaction) or a reversal. It carries the return reason
  code when the bank gives one (RtrInf, e.g. AC04 account closed, AM04 insufficient funds, MD06
  refund requested by the debtor) and None when it does not; `return_reason_label()` names them.
- **unmatched**: everything else that is booked, each with why, for the reconciliation queue:
  `no_end_to_end_id`, `unknown_end_to_end_id`, `currency_mismatch`, `exceeds_outstanding`
  (more than is still outstanding, also a second credit for a paid collection) and
  `credit_reversal` (a CRDT reversal carrying a collection's id: a reversed refund or an error).
- **pending**: entries not yet booked (status PDNG or INFO); nothing is decided on them: the
  booked line follows in a later statement.

Entries are taken in file order, and the outstanding amount of a collection goes down with each
credit matched to it within the call, so two part payments that add up give `partly_paid` then
`paid`; a return puts the returned amount back as outstanding (up to the expected amount).
`expected` is not changed. The caller applies the results in order; amounts compare as Decimals.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .camt import StatementEntry

# Unmatched reasons
NO_END_TO_END_ID = "no_end_to_end_id"
UNKNOWN_END_TO_END_ID = "unknown_end_to_end_id"
CURRENCY_MISMATCH = "currency_mismatch"
EXCEEDS_OUTSTANDING = "exceeds_outstanding"
CREDIT_REVERSAL = "credit_reversal"


@dataclass(frozen=True)
class Payment:
    """A credit matched to a collection (in `paid` or `partly_paid`)."""

    entry: StatementEntry
    end_to_end_id: str
    amount: Decimal
    currency: str
    outstanding: Decimal  # what is still owed after this payment (0 when paid)


@dataclass(frozen=True)
class Return:
    entry: StatementEntry
    end_to_end_id: str
    amount: Decimal
    currency: str
    reason_code: str | None


@dataclass(frozen=True)
class Unmatched:
    entry: StatementEntry
    reason: str  # one of the constants above

    @property
    def reason_label(self) -> str:
        return unmatched_reason_label(self.reason)


@dataclass
class MatchResult:
    paid: list[Payment] = field(default_factory=list)
    partly_paid: list[Payment] = field(default_factory=list)
    returned: list[Return] = field(default_factory=list)
    unmatched: list[Unmatched] = field(default_factory=list)
    pending: list[StatementEntry] = field(default_factory=list)


def match_entries(entries: Iterable[StatementEntry], expected: Mapping[str, tuple[Decimal, str]]) -> MatchResult:
    """Sort `entries` against `expected` (end-to-end id -> (outstanding amount, currency))."""
    outstanding = {end_to_end_id: amount for end_to_end_id, (amount, _currency) in expected.items()}
    result = MatchResult()
    for entry in entries:
        if entry.status != "BOOK":
            result.pending.append(entry)
            continue
        if not entry.end_to_end_id:
            result.unmatched.append(Unmatched(entry, NO_END_TO_END_ID))
            continue
        if entry.end_to_end_id not in expected:
            result.unmatched.append(Unmatched(entry, UNKNOWN_END_TO_END_ID))
            continue
        expected_amount, expected_currency = expected[entry.end_to_end_id]
        if entry.currency != expected_currency:
            result.unmatched.append(Unmatched(entry, CURRENCY_MISMATCH))
            continue
        key = entry.end_to_end_id
        if entry.credit_debit == "DBIT":
            outstanding[key] = min(expected_amount, outstanding[key] + entry.amount)
            result.returned.append(Return(entry, key, entry.amount, entry.currency, entry.return_reason))
        elif entry.reversal:
            result.unmatched.append(Unmatched(entry, CREDIT_REVERSAL))
        elif entry.amount > outstanding[key] or entry.amount <= 0:
            result.unmatched.append(Unmatched(entry, EXCEEDS_OUTSTANDING))
        else:
            outstanding[key] -= entry.amount
            payment = Payment(entry, key, entry.amount, entry.currency, outstanding[key])
            (result.paid if outstanding[key] == 0 else result.partly_paid).append(payment)
    return result


RETURN_REASONS = {
    "AC01": gettext_lazy("Account number incorrect"),
    "AC04": gettext_lazy("Account closed"),
    "AC06": gettext_lazy("Account blocked"),
    "AC13": gettext_lazy("Debtor account is a consumer account"),
    "AG01": gettext_lazy("Direct debits not allowed on this account"),
    "AG02": gettext_lazy("Invalid operation or sequence type"),
    "AM04": gettext_lazy("Insufficient funds"),
    "AM05": gettext_lazy("Duplicate collection"),
    "BE05": gettext_lazy("Creditor not recognised"),
    "CNOR": gettext_lazy("Creditor's bank not reachable"),
    "DNOR": gettext_lazy("Debtor's bank not reachable"),
    "FF01": gettext_lazy("Invalid file format"),
    "MD01": gettext_lazy("No valid mandate"),
    "MD02": gettext_lazy("Mandate data missing or incorrect"),
    "MD06": gettext_lazy("Refund requested by the debtor"),
    "MD07": gettext_lazy("Debtor deceased"),
    "MS02": gettext_lazy("Refused by the debtor (no reason given)"),
    "MS03": gettext_lazy("Refused by the bank (no reason given)"),
    "RC01": gettext_lazy("Bank identifier (BIC) incorrect"),
    "RR01": gettext_lazy("Regulatory reason: debtor account or identification missing"),
    "RR02": gettext_lazy("Regulatory reason: debtor name or address missing"),
    "RR03": gettext_lazy("Regulatory reason: creditor name or address missing"),
    "RR04": gettext_lazy("Regulatory reason"),
    "SL01": gettext_lazy("Blocked by a service of the debtor's bank"),
}


def return_reason_label(code: str | None) -> str:
    """The ISO 20022 return reason in words (in the active language); the bare code if unknown."""
    if not code:
        return _("No reason given")
    label = RETURN_REASONS.get(code)
    return f"{code}: {label}" if label else code


def unmatched_reason_label(reason: str) -> str:
    labels = {
        NO_END_TO_END_ID: _("The line carries no end-to-end id."),
        UNKNOWN_END_TO_END_ID: _("No expected collection has this end-to-end id."),
        CURRENCY_MISMATCH: _("The currency differs from the collection's."),
        EXCEEDS_OUTSTANDING: _("The amount is more than is still outstanding."),
        CREDIT_REVERSAL: _("A reversed debit carrying a collection's id."),
    }
    return labels.get(reason, reason)
