"""Instalment plans: what an approved order is paid back in, and each payment of it."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.core.policy import RestrictedQuerySet

from ..money import MONEY, RATE, currency_check


class Plan(models.Model):
    """The schedule of one order, priced with the option the shopper chose (bnpl.pricing).

    It waits for the shipment: due dates count from `start_date`, the day the shop ships.
    Rates are in percent per year.
    """

    class State(models.TextChoices):
        AWAITING_SHIPMENT = "awaiting_shipment", _("Waiting for shipment")
        ACTIVE = "active", _("Active")
        COMPLETED = "completed", _("Paid in full")
        CANCELLED = "cancelled", _("Cancelled")

    order = models.OneToOneField("bnpl.Order", verbose_name=_("order"), on_delete=models.PROTECT, related_name="plan")
    option_key = models.CharField(_("payment option"), max_length=32)
    nominal_rate = models.DecimalField(_("nominal rate"), **RATE)
    apr = models.DecimalField(_("APR"), **RATE)
    total_payable = models.DecimalField(_("total payable"), **MONEY)
    total_cost_of_credit = models.DecimalField(_("total cost of credit"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3)
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.AWAITING_SHIPMENT)
    start_date = models.DateField(_("start date"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("instalment plan")
        verbose_name_plural = _("instalment plans")
        constraints = [
            models.CheckConstraint(
                condition=Q(nominal_rate__gte=0)
                & Q(apr__gte=0)
                & Q(total_payable__gte=0)
                & Q(total_cost_of_credit__gte=0),
                name="bnpl_plan_amounts_not_negative",
            ),
            models.CheckConstraint(condition=currency_check(), name="bnpl_plan_currency_iso"),
            models.CheckConstraint(
                condition=Q(state="awaiting_shipment") | Q(state="cancelled") | Q(start_date__isnull=False),
                name="bnpl_plan_started_dated",
            ),
        ]

    def __str__(self):
        return f"{self.order} · {self.option_key}"


class Instalment(models.Model):
    class State(models.TextChoices):
        DUE = "due", _("Due")
        PAID = "paid", _("Paid")
        PARTLY_PAID = "partly_paid", _("Partly paid")
        OVERDUE = "overdue", _("Overdue")
        RETURNED = "returned", _("Returned by the bank")
        CANCELLED = "cancelled", _("Cancelled")

    plan = models.ForeignKey(Plan, verbose_name=_("plan"), on_delete=models.PROTECT, related_name="instalments")
    number = models.PositiveSmallIntegerField(_("number"))
    # None until the shop ships: the schedule counts from the shipment date.
    due_date = models.DateField(_("due date"), null=True, blank=True)
    amount = models.DecimalField(_("amount"), **MONEY)
    principal = models.DecimalField(_("principal"), **MONEY)
    interest = models.DecimalField(_("interest"), **MONEY)
    paid_amount = models.DecimalField(_("paid"), **MONEY, default=0)
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.DUE)
    # The bank's reason code of the last returned direct debit (AM04, AC04, MD06 …); blank otherwise.
    return_reason = models.CharField(_("return reason"), max_length=8, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["plan", "number"]
        verbose_name = _("instalment")
        verbose_name_plural = _("instalments")
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="bnpl_instalment_number_per_plan"),
            models.CheckConstraint(condition=Q(number__gte=1), name="bnpl_instalment_number_positive"),
            models.CheckConstraint(
                condition=Q(amount__gte=0) & Q(principal__gte=0) & Q(interest__gte=0) & Q(paid_amount__gte=0),
                name="bnpl_instalment_amounts_not_negative",
            ),
        ]
        indexes = [models.Index(fields=["state", "due_date"], name="bnpl_instalment_due_idx")]

    def __str__(self):
        return f"{self.plan} #{self.number}"
