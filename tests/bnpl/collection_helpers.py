"""Plans that fall due on a chosen day, shoppers with mandates, and statements answering a run."""

from datetime import date
from decimal import Decimal

from bnpl.mandates import mandate_grant
from bnpl.models import CollectionItem, SepaMandate
from bnpl.pricing import add_months
from bnpl.statement_files import camt053_for

from .fee_helpers import priced_plan

IBANS = {"client1": "DE75512108001245126199", "client2": "DE02120300000000202051", "client3": "DE12500105170648489890"}


def mandate_for(shopper, iban: str) -> SepaMandate:
    mandate = mandate_grant(actor=shopper.user, shopper=shopper, iban=iban, account_holder="Carl Weber")
    SepaMandate.objects.filter(pk=mandate.pk).update(signed_at=mandate.signed_at.replace(year=2025))
    mandate.refresh_from_db()
    return mandate


def plan_due(*, merchant, shopper, first_due: date, key="monthly_3", amount=Decimal("300.00")):
    """An active plan whose first instalment falls due on `first_due`."""
    start = add_months(first_due, -1) if key.startswith("monthly") else first_due
    return priced_plan(merchant=merchant, shopper=shopper, key=key, amount=amount, start=start)


def statement_paying(run, *, statement_id: str, booking_date: date, amounts=None, returns=(), transfers=()) -> bytes:
    """A camt.053 crediting every item of `run` (or the `amounts` given per end-to-end id)."""
    items = list(CollectionItem.objects.filter(run=run).select_related("instalment__plan__order", "mandate"))
    credits = [
        (item, (amounts or {}).get(item.end_to_end_id, item.amount))
        for item in items
        if item.end_to_end_id not in {ret[0] for ret in returns}
    ]
    by_id = {item.end_to_end_id: item for item in items}
    return camt053_for(
        statement_id=statement_id,
        booking_date=booking_date,
        credits=credits,
        returns=[(by_id[key], amount, reason) for key, amount, reason in returns],
        transfers=list(transfers),
    )
