"""Collection runs: the direct debit file (pain.008) of one collection day, prepared from the instalments due.

`collection_run_prepare(*, actor, collection_date)` takes every instalment due on that day with
something still open, on an active plan whose order has no open dispute, and debits it under the
shopper's active SEPA mandate: FRST for the first debit under a mandate, RCUR afterwards. An
instalment that cannot be collected is listed in the run's `skipped` with the reason (no active
mandate, not in EUR, mandate signed after the day). The file is built and checked by
`collections.sepa.direct_debit_file` with the creditor from the settings (BNPL_CREDITOR_*), and
stored with the run. When the first debit under a mandate goes out, `mandate.first_collected_at`
is set, so the next one is RCUR.

Idempotent per day: a second call for the same day returns the run already there (unique
constraint on the day for runs not cancelled, so two parallel calls give one run). A cancelled run
does not count: the day can be prepared again, and its FRST mandates are FRST again.
"""

from datetime import date

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from portal.audit.services import audit_record

from .collection_permissions import can_manage_collections
from .collections import sepa
from .dispute_state import disputed
from .models import CollectionItem, CollectionRun, Instalment, Plan, SepaMandate

COLLECTABLE = (Instalment.State.DUE, Instalment.State.PARTLY_PAID, Instalment.State.RETURNED)
# Reasons kept in English and marked, so the page shows them in the reader's language.
SKIP_NO_MANDATE = gettext_noop("No active SEPA mandate")
SKIP_CURRENCY = gettext_noop("Not in EUR: SEPA debits are in EUR only")
SKIP_MANDATE_LATE = gettext_noop("The mandate was signed after the collection date")
SKIP_DISPUTE = gettext_noop("Paused: the order has an open dispute")


def creditor() -> sepa.Creditor:
    return sepa.Creditor(
        name=settings.BNPL_CREDITOR_NAME,
        iban=settings.BNPL_CREDITOR_IBAN,
        bic=settings.BNPL_CREDITOR_BIC or None,
        creditor_id=settings.BNPL_CREDITOR_ID,
    )


def _candidates(collection_date: date):
    return (
        Instalment.objects.filter(
            plan__state=Plan.State.ACTIVE,
            due_date=collection_date,
            state__in=COLLECTABLE,
            paid_amount__lt=F("amount"),
        )
        .annotate(paused=disputed("plan__order_id"))
        .select_related("plan__order__shopper__user")
        .order_by("plan__order_id", "number")
    )


def _skip(instalment: Instalment, reason: str) -> dict:
    return {
        "instalment": instalment.pk,
        "order": instalment.plan.order.reference,
        "number": instalment.number,
        "amount": str(instalment.amount - instalment.paid_amount),
        "reason": reason,
    }


def collection_run_prepare(*, actor, collection_date: date) -> CollectionRun:
    """The run of `collection_date`: the one already prepared, or a new one (module docstring).

    `actor` None is the beat task. Raises ValidationError when the creditor settings are wrong (then
    nothing is stored), PermissionDenied when the actor is not back office.
    """
    if actor is not None and not can_manage_collections(actor):
        raise PermissionDenied
    if not isinstance(collection_date, date):
        raise ValidationError({"collection_date": _("Give the collection day as a date.")})
    existing = _current(collection_date)
    if existing is not None:
        return existing
    try:
        with transaction.atomic(durable=True):
            return _prepare(actor=actor, collection_date=collection_date)
    except IntegrityError:  # a parallel call prepared the day first
        existing = _current(collection_date)
        if existing is None:
            raise
        return existing


def _current(collection_date: date) -> CollectionRun | None:
    return (
        CollectionRun.objects.filter(collection_date=collection_date)
        .exclude(state=CollectionRun.State.CANCELLED)
        .first()
    )


def _prepare(*, actor, collection_date: date) -> CollectionRun:
    now = timezone.now()
    run = CollectionRun.objects.create(
        collection_date=collection_date,
        message_id=f"PZDD-{collection_date:%Y%m%d}-{now:%H%M%S%f}"[:35],
        created_by=actor,
        created_at=now,
    )
    instalments = list(_candidates(collection_date))
    shopper_ids = {row.plan.order.shopper_id for row in instalments}
    mandates = {
        mandate.shopper_id: mandate
        for mandate in SepaMandate.objects.select_for_update().filter(
            shopper_id__in=shopper_ids, state=SepaMandate.State.ACTIVE
        )
    }
    # Instalments are locked so a statement import or a refund in the same moment waits for the run.
    list(Instalment.objects.select_for_update().filter(pk__in=[row.pk for row in instalments]).values_list("pk"))
    items, collections, skipped = [], [], []
    for instalment in instalments:
        order = instalment.plan.order
        mandate = mandates.get(order.shopper_id)
        if instalment.paused:
            skipped.append(_skip(instalment, SKIP_DISPUTE))
        elif instalment.plan.currency != "EUR":
            skipped.append(_skip(instalment, SKIP_CURRENCY))
        elif mandate is None:
            skipped.append(_skip(instalment, SKIP_NO_MANDATE))
        elif timezone.localdate(mandate.signed_at) > collection_date:
            skipped.append(_skip(instalment, SKIP_MANDATE_LATE))
        else:
            item = CollectionItem(
                run=run,
                instalment=instalment,
                mandate=mandate,
                end_to_end_id=f"PZ-{run.pk}-{instalment.pk}",
                amount=instalment.amount - instalment.paid_amount,
                currency="EUR",
                sequence=mandate.sequence,
            )
            items.append(item)
            collections.append(
                sepa.Collection(
                    end_to_end_id=item.end_to_end_id,
                    debtor_name=mandate.account_holder,
                    debtor_iban=mandate.iban,
                    debtor_bic=mandate.bic or None,
                    mandate_id=mandate.reference,
                    mandate_date=timezone.localdate(mandate.signed_at),
                    amount=item.amount,
                    currency="EUR",
                    # The bank shows this to the shopper; one language for the file.
                    remittance=f"{order.reference} instalment {instalment.number}"[:140],
                    sequence=item.sequence,
                )
            )
    if items:
        run.pain008 = sepa.direct_debit_file(
            creditor=creditor(), collections=collections, collection_date=collection_date, message_id=run.message_id
        )
        CollectionItem.objects.bulk_create(items)
        first = {item.mandate_id for item in items if item.sequence == "FRST"}
        SepaMandate.objects.filter(pk__in=first, first_collected_at__isnull=True).update(first_collected_at=now)
    else:
        run.state = CollectionRun.State.EMPTY
    run.item_count = len(items)
    run.total_amount = sum((item.amount for item in items), start=run.total_amount)
    run.skipped = skipped
    run.save(update_fields=["pain008", "item_count", "total_amount", "skipped", "state"])
    audit_record(
        action="bnpl.collection_run_prepared",
        actor=actor,
        actor_label="" if actor else "collections",
        obj=run,
        changes={
            "collection_date": collection_date.isoformat(),
            "items": len(items),
            "total": str(run.total_amount),
            "skipped": len(skipped),
            "message_id": run.message_id,
        },
    )
    return run


def collection_run_cancel(*, actor, run_id) -> CollectionRun:
    """Back office withdraws a run before the bank has answered on any of its debits.

    Its items are cancelled and the mandates whose first debit it carried are FRST again; the day
    can be prepared anew. Refused once a statement line matched one of its debits.
    """
    if not can_manage_collections(actor):
        raise PermissionDenied
    with transaction.atomic(durable=True):
        run = CollectionRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None:
            raise Http404
        if run.state == CollectionRun.State.CANCELLED:
            raise ValidationError(_("This run is cancelled already."), code="cancelled")
        answered = run.items.exclude(state=CollectionItem.State.SENT).exists()
        if answered:
            raise ValidationError(
                _("The bank has already answered on debits of this run; it can no longer be cancelled."),
                code="answered",
            )
        first = list(run.items.filter(sequence="FRST").values_list("mandate_id", flat=True))
        run.items.update(state=CollectionItem.State.CANCELLED)
        # A mandate is FRST again unless another live run carries a debit under it.
        still_collected = set(
            CollectionItem.objects.filter(mandate_id__in=first)
            .exclude(state=CollectionItem.State.CANCELLED)
            .values_list("mandate_id", flat=True)
        )
        SepaMandate.objects.filter(pk__in=set(first) - still_collected).update(first_collected_at=None)
        before = run.state
        run.state = CollectionRun.State.CANCELLED
        run.cancelled_at = timezone.now()
        run.save(update_fields=["state", "cancelled_at"])
        audit_record(
            action="bnpl.collection_run_cancelled",
            actor=actor,
            obj=run,
            changes={"state": [before, run.state], "items": run.item_count},
        )
    return run
