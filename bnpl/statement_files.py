"""A camt.053 statement written for collection items, as the creditor's bank would send it.

For the demo (a statement to import that matches the demo run) and for tests that pay plans
through statements. Credits of direct debits come as one batch entry (one transaction per debit),
each return and each plain transfer as an entry of its own.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.template.loader import render_to_string
from django.utils import timezone

from .collection_runs import creditor
from .models import CollectionItem


@dataclass(frozen=True)
class Transfer:
    """A credit transfer without an end-to-end id (the shopper paid by hand)."""

    amount: Decimal
    remittance: str
    debtor_name: str
    debtor_iban: str = ""


def _debit(item: CollectionItem, amount: Decimal, return_reason: str = "") -> dict:
    order = item.instalment.plan.order
    return {
        "end_to_end_id": item.end_to_end_id,
        "mandate_id": item.mandate.reference,
        "amount": f"{amount:.2f}",
        "debtor_name": item.mandate.account_holder,
        "debtor_iban": item.mandate.iban,
        "remittance": f"{order.reference} instalment {item.instalment.number}",
        "return_reason": return_reason,
    }


def camt053_for(
    *,
    statement_id: str,
    booking_date: date,
    credits: list[tuple[CollectionItem, Decimal]] = (),
    returns: list[tuple[CollectionItem, Decimal, str]] = (),
    transfers: list[Transfer] = (),
    created_at: datetime | None = None,
) -> bytes:
    entries = []
    if credits:
        transactions = [_debit(item, amount) for item, amount in credits]
        total = sum((amount for _item, amount in credits), Decimal(0))
        entries.append(
            {
                "reference": "DD-BATCH",
                "amount": f"{total:.2f}",
                "currency": "EUR",
                "credit_debit": "CRDT",
                "transactions": transactions,
            }
        )
    for number, (item, amount, reason) in enumerate(returns, start=1):
        entries.append(
            {
                "reference": f"DD-RETURN-{number}",
                "amount": f"{amount:.2f}",
                "currency": "EUR",
                "credit_debit": "DBIT",
                "transactions": [_debit(item, amount, reason)],
            }
        )
    for number, transfer in enumerate(transfers, start=1):
        entries.append(
            {
                "reference": f"TRANSFER-{number}",
                "amount": f"{transfer.amount:.2f}",
                "currency": "EUR",
                "credit_debit": "CRDT",
                "transactions": [
                    {
                        "end_to_end_id": "",
                        "amount": f"{transfer.amount:.2f}",
                        "debtor_name": transfer.debtor_name,
                        "debtor_iban": transfer.debtor_iban,
                        "remittance": transfer.remittance,
                    }
                ],
            }
        )
    bank = creditor()
    xml = render_to_string(
        "bnpl/files/camt053.xml",
        {
            "statement_id": statement_id,
            "created_at": (created_at or timezone.now()).replace(microsecond=0).isoformat(),
            "account_iban": bank.iban.replace(" ", ""),
            "account_owner": bank.name,
            "booking_date": booking_date.isoformat(),
            "entries": entries,
        },
    )
    return xml.encode("utf-8")
