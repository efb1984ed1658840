"""Collections: the direct debit runs sent to the bank, the statements read back, dunning notices.

A run is one pain.008 file for one collection day; its items are the instalments debited in it. A
bank statement (camt.053/054) is stored once per statement id with one line per transaction and what
the line meant (paid, partly paid, returned, unmatched …). Unmatched lines wait in the work inbox
(kind `bnpl.reconciliation`) until back office assigns or dismisses them.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.core.policy import RestrictedQuerySet

from ..money import MONEY


class CollectionRun(models.Model):
    """The direct debit file of one collection day. At most one run per day that is not cancelled."""

    class State(models.TextChoices):
        PREPARED = "prepared", _("Prepared")
        EMPTY = "empty", _("Nothing to collect")
        CANCELLED = "cancelled", _("Cancelled")

    collection_date = models.DateField(_("collection date"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PREPARED)
    message_id = models.CharField(_("message id"), max_length=35, unique=True)
    # The pain.008 XML exactly as it was built (and checked against its XSD); empty for an empty run.
    pain008 = models.BinaryField(_("pain.008 file"), blank=True, default=b"")
    item_count = models.PositiveIntegerField(_("debits"), default=0)
    total_amount = models.DecimalField(_("total"), **MONEY, default=0)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    # Instalments due that day that were not collected, each with why: [{"instalment", "order", "number", "reason"}].
    skipped = models.JSONField(_("skipped"), default=list, blank=True)
    created_at = models.DateTimeField(_("prepared"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("prepared by"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-collection_date", "-id"]
        verbose_name = _("collection run")
        verbose_name_plural = _("collection runs")
        constraints = [
            models.UniqueConstraint(
                fields=["collection_date"], condition=~Q(state="cancelled"), name="bnpl_collection_run_one_per_day"
            ),
            models.CheckConstraint(
                condition=~Q(state="cancelled") | Q(cancelled_at__isnull=False), name="bnpl_collection_run_cancelled"
            ),
        ]

    def __str__(self):
        return f"{self.collection_date.isoformat()} · {self.message_id}"

    @property
    def file_name(self) -> str:
        return f"pain008-{self.message_id}.xml"


class CollectionItem(models.Model):
    """One debit of a run: an instalment collected under a mandate, and what the bank said about it."""

    class State(models.TextChoices):
        SENT = "sent", _("Sent to the bank")
        PAID = "paid", _("Paid")
        PARTLY_PAID = "partly_paid", _("Partly paid")
        RETURNED = "returned", _("Returned")
        CANCELLED = "cancelled", _("Cancelled")

    run = models.ForeignKey(CollectionRun, verbose_name=_("run"), on_delete=models.PROTECT, related_name="items")
    instalment = models.ForeignKey(
        "bnpl.Instalment", verbose_name=_("instalment"), on_delete=models.PROTECT, related_name="collection_items"
    )
    mandate = models.ForeignKey(
        "bnpl.SepaMandate", verbose_name=_("mandate"), on_delete=models.PROTECT, related_name="collection_items"
    )
    end_to_end_id = models.CharField(_("end-to-end id"), max_length=35, unique=True)
    amount = models.DecimalField(_("amount"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    sequence = models.CharField(_("sequence"), max_length=4, choices=[("FRST", "FRST"), ("RCUR", "RCUR")])
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.SENT)
    # What the bank credited for this debit, net of returns.
    paid_amount = models.DecimalField(_("paid"), **MONEY, default=0)
    return_reason = models.CharField(_("return reason"), max_length=8, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["run", "id"]
        verbose_name = _("collection item")
        verbose_name_plural = _("collection items")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0) & Q(paid_amount__gte=0), name="bnpl_collection_item_amounts"
            ),
        ]

    def __str__(self):
        return self.end_to_end_id


class BankStatement(models.Model):
    """One imported camt.053/054 statement; a statement id is imported once (a repeat changes nothing)."""

    statement_id = models.CharField(_("statement id"), max_length=35, unique=True)
    kind = models.CharField(_("kind"), max_length=8)
    account_iban = models.CharField(_("account"), max_length=34)
    issued_at = models.DateTimeField(_("issued"))
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    imported_at = models.DateTimeField(_("imported"), default=timezone.now)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("imported by"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    # {"paid": n, "partly_paid": n, "returned": n, "unmatched": n, "pending": n}
    counts = models.JSONField(_("outcome"), default=dict)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-imported_at", "-id"]
        verbose_name = _("bank statement")
        verbose_name_plural = _("bank statements")

    def __str__(self):
        return self.statement_id


class StatementLine(models.Model):
    """One transaction of a statement and its outcome; unmatched ones are resolved by hand."""

    class Outcome(models.TextChoices):
        PAID = "paid", _("Paid an instalment")
        PARTLY_PAID = "partly_paid", _("Partly paid an instalment")
        RETURNED = "returned", _("Returned debit")
        UNMATCHED = "unmatched", _("Unmatched: waiting for back office")
        PENDING = "pending", _("Not booked yet")
        ASSIGNED = "assigned", _("Assigned by hand")
        DISMISSED = "dismissed", _("Dismissed")

    statement = models.ForeignKey(
        BankStatement, verbose_name=_("statement"), on_delete=models.PROTECT, related_name="lines"
    )
    entry_number = models.PositiveIntegerField(_("entry"))
    entry_reference = models.CharField(_("entry reference"), max_length=100, blank=True)
    booking_date = models.DateField(_("booked"), null=True, blank=True)
    amount = models.DecimalField(_("amount"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3)
    credit_debit = models.CharField(_("credit/debit"), max_length=4)
    end_to_end_id = models.CharField(_("end-to-end id"), max_length=35, blank=True)
    remittance = models.CharField(_("remittance"), max_length=500, blank=True)
    debtor_name = models.CharField(_("debtor"), max_length=140, blank=True)
    debtor_iban = models.CharField(_("debtor's IBAN"), max_length=34, blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)
    # Why a line is unmatched (collections.matching's reasons), or the bank's return reason code.
    reason = models.CharField(_("reason"), max_length=32, blank=True)
    item = models.ForeignKey(
        CollectionItem, verbose_name=_("collection"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    instalment = models.ForeignKey(
        "bnpl.Instalment",
        verbose_name=_("instalment"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="statement_lines",
    )
    resolution_note = models.CharField(_("note"), max_length=500, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("resolved by"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["statement", "entry_number", "id"]
        verbose_name = _("statement line")
        verbose_name_plural = _("statement lines")
        indexes = [models.Index(fields=["outcome"], name="bnpl_statement_line_outcome")]

    def __str__(self):
        return f"{self.statement} #{self.entry_number} {self.credit_debit} {self.amount} {self.currency}"


class DunningNotice(models.Model):
    """A dunning notice sent for an overdue instalment; one per level (a re-run sends nothing twice)."""

    instalment = models.ForeignKey(
        "bnpl.Instalment", verbose_name=_("instalment"), on_delete=models.PROTECT, related_name="dunning_notices"
    )
    level = models.PositiveSmallIntegerField(_("level"))
    sent_on = models.DateField(_("sent on"))
    open_amount = models.DecimalField(_("open amount"), **MONEY)
    fee = models.ForeignKey(
        "bnpl.FeeCharge", verbose_name=_("fee"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-sent_on", "-level"]
        verbose_name = _("dunning notice")
        verbose_name_plural = _("dunning notices")
        constraints = [
            models.UniqueConstraint(fields=["instalment", "level"], name="bnpl_dunning_one_per_level"),
            models.CheckConstraint(condition=Q(level__gte=1), name="bnpl_dunning_level_positive"),
        ]

    def __str__(self):
        return f"{self.instalment} · {self.level}"
