"""Demo of the collections: a prepared direct debit run, a bank statement to import, dunning, a dispute.

Delta Shop ships five orders whose first instalment falls due today (the collection day):
client2 (Carl Weber) and client3 (Katya Ivanova) have SEPA mandates, client1 has none (her
instalment is skipped with the reason), and the parcel of DELTA-4005 came back (an open dispute:
its instalment is skipped and its dunning paused). DELTA-4004 of client3 fell due 20 days ago and
is in dunning (late fee, dunning level 2 with its fee).

The demo bank statement (`demo_statement()`, served at /bnpl/collections/demo-statement.xml in
DEBUG and written to MEDIA_ROOT/bnpl/demo/ by `make demo`) credits DELTA-4001 and DELTA-4003,
returns DELTA-4002 (AM04, insufficient funds) and carries one transfer without end-to-end id: client3
paying DELTA-4004 by hand, which lands in the reconciliation queue. Running the step again changes
nothing.
"""

from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from . import orders, services
from .collection_runs import collection_run_prepare
from .demo_orders import _placed
from .dunning import dunning_run
from .mandates import active_mandate, mandate_grant
from .models import CollectionItem, CollectionRun, Merchant, Order, Shopper, TrackingState
from .order_tracking import order_tracking_status_set
from .pricing import add_months
from .statement_files import Transfer, camt053_for

# reference, shopper e-mail, option, line (name, quantity, unit price), first instalment due this many days ago
ORDERS = [
    ("DELTA-4001", "client2@example.com", "monthly_3", ("Milk jug set", 1, "240.00"), 0),
    ("DELTA-4002", "client3@example.com", "monthly_3", ("Coffee grinder", 1, "150.00"), 0),
    ("DELTA-4003", "client2@example.com", "pay_in_4", ("Descaler (3)", 1, "120.00"), 0),
    ("DELTA-4004", "client3@example.com", "monthly_3", ("Knock box", 1, "135.00"), 20),
    ("DELTA-4005", "client2@example.com", "monthly_3", ("Barista apron", 1, "180.00"), 0),
    ("DELTA-4006", "client1@example.com", "pay_in_4", ("Cleaning tablets", 1, "60.00"), 0),
]
MANDATES = {
    "client2@example.com": "DE02120300000000202051",
    "client3@example.com": "DE12500105170648489890",
}
DISPUTED = "DELTA-4005"
PAID, RETURNED, TRANSFERRED = ("DELTA-4001", "DELTA-4003"), "DELTA-4002", "DELTA-4004"


def collections_demo_step(*, scale: str, stdout) -> None:
    users = get_user_model().objects.in_bulk(
        ["merchant@example.com", "backoffice@example.com", "admin@example.com", *MANDATES, "client1@example.com"],
        field_name="email",
    )
    merchant_user, backoffice = users.get("merchant@example.com"), users.get("backoffice@example.com")
    merchant = merchant_user and Merchant.objects.filter(organisation_id=merchant_user.organisation_id).first()
    if merchant is None or backoffice is None:
        stdout.write("  bnpl collections: Delta Shop or back office is missing; nothing to do.")
        return
    shoppers = {}
    for email in ("client1@example.com", *MANDATES):
        if email in users:
            shoppers[email] = services.shopper_profile_ensure(
                actor=users.get("admin@example.com"),
                user=users[email],
                region="DE-BE",
                purchase_limit=Decimal("1500.00"),
                purchase_limit_currency="EUR",
            )
    for email, iban in MANDATES.items():
        shopper = shoppers.get(email)
        if shopper is not None and active_mandate(shopper) is None:
            mandate = mandate_grant(
                actor=shopper.user, shopper=shopper, iban=iban, account_holder=shopper.user.get_full_name() or email
            )
            # Signed when the first purchase was made, a while ago.
            type(mandate).objects.filter(pk=mandate.pk).update(signed_at=timezone.now() - timedelta(days=60))
    today = timezone.localdate()
    for reference, email, option, line, days_ago in ORDERS:
        shopper = shoppers.get(email)
        if shopper is None or Order.objects.filter(merchant=merchant, reference=reference).exists():
            continue
        _order_shipped(
            merchant_user, merchant, shopper, reference, option, line, first_due=today - timedelta(days=days_ago)
        )
    disputed = Order.objects.filter(merchant=merchant, reference=DISPUTED).select_related("shopper__user", "merchant")
    with transaction.atomic():
        for order in disputed.select_for_update(of=("self",)):
            order_tracking_status_set(order=order, status=TrackingState.RETURNED, status_date=timezone.now())
    run = collection_run_prepare(actor=backoffice, collection_date=today)
    counts = dunning_run(today=today)
    path = _statement_write(run)
    stdout.write(
        f"  bnpl collections: run {run.message_id} with {run.item_count} debits ({run.total_amount} EUR), "
        f"{len(run.skipped)} skipped; dunning {counts}; bank statement to import: {path}"
    )


def _order_shipped(merchant_user, merchant, shopper: Shopper, reference, option, line, *, first_due) -> None:
    name, quantity, price = line
    # The schedule counts from the shipment: monthly plans fall due a month later, pay in 4 at once.
    start = add_months(first_due, -1) if option.startswith("monthly") else first_due
    order = _placed(merchant, shopper, reference, "shipped", option, [(name, quantity, price, "19.00")], days_ago=40)
    orders.order_capture(actor=merchant_user, order_id=order.pk)
    shipped_at = timezone.make_aware(datetime.combine(start, time(10, 0)))
    orders.order_ship(
        actor=merchant_user,
        order_id=order.pk,
        carrier="dhl_germany",
        tracking_number=f"00340434161094{4000 + int(reference[-2:]):06d}",
        shipped_at=min(shipped_at, timezone.now()),
    )


def demo_run() -> CollectionRun | None:
    """The run that carries the demo's debits (the latest one not cancelled)."""
    return (
        CollectionRun.objects.filter(items__instalment__plan__order__reference__in=PAID)
        .exclude(state=CollectionRun.State.CANCELLED)
        .order_by("-collection_date", "-pk")
        .first()
    )


def demo_statement(run: CollectionRun | None = None) -> tuple[str, bytes] | None:
    """(file name, camt.053 bytes) answering the demo run; None without a demo run."""
    run = run or demo_run()
    if run is None:
        return None
    items = {
        item.instalment.plan.order.reference: item
        for item in CollectionItem.objects.filter(run=run).select_related("instalment__plan__order", "mandate")
    }
    transferred = Order.objects.filter(reference=TRANSFERRED).select_related("plan", "shopper__user").first()
    transfers = []
    if transferred is not None and hasattr(transferred, "plan"):
        first = transferred.plan.instalments.order_by("number").first()
        transfers.append(
            Transfer(
                amount=first.amount,
                remittance=f"{TRANSFERRED} instalment {first.number}",
                debtor_name=transferred.shopper.user.get_full_name() or transferred.shopper.user.email,
                debtor_iban=MANDATES.get(transferred.shopper.user.email, ""),
            )
        )
    statement_id = f"PZ-DEMO-{run.collection_date:%Y%m%d}-{run.pk}"
    data = camt053_for(
        statement_id=statement_id,
        booking_date=run.collection_date,
        credits=[(items[ref], items[ref].amount) for ref in PAID if ref in items],
        returns=[(items[RETURNED], items[RETURNED].amount, "AM04")] if RETURNED in items else [],
        transfers=transfers,
    )
    return f"camt053-{statement_id}.xml", data


def _statement_write(run: CollectionRun) -> str:
    statement = demo_statement(run)
    if statement is None:
        return "-"
    name, data = statement
    folder = Path(settings.MEDIA_ROOT) / "bnpl" / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    return str(folder / name)
