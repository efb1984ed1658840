"""Which orders are paused by an open dispute (read by collections, late fees and dunning).

A dispute is the work inbox's item of kind `bnpl.dispute` for the order (opened by
bnpl/order_tracking.py on a return or a failed delivery): it is open while its `closed_at` is empty,
and the decision (bnpl/disputes.py) closes it. So the inbox row is the one place that says so.
"""

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef

from portal.inbox.models import WorkItem

from .models import Order

DISPUTE_KIND = "bnpl.dispute"


def open_disputes():
    """The open dispute items (a WorkItem queryset over orders)."""
    return WorkItem.objects.filter(
        kind=DISPUTE_KIND, content_type=ContentType.objects.get_for_model(Order), closed_at__isnull=True
    )


def disputed(order_path: str) -> Exists:
    """An `Exists` that is true where the order at `order_path` (e.g. "plan__order_id") has an open dispute."""
    return Exists(open_disputes().filter(object_id=OuterRef(order_path)))


def order_disputed(order_id: int) -> bool:
    return open_disputes().filter(object_id=order_id).exists()
