"""Commission plans (kept by back office), accruals (computed by Celery) and monthly statements.

Money is in EUR: bases are converted at the day's FX rate, amounts are kept to 8 places per
accrual and rounded to cents only on a statement. Every accrual names its source: a transaction,
a portfolio's valuation on a day, or (for a firm manager's override) the broker's accrual.
"""

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from clients.models import Client
from intermediaries.models import AssetClass, Instrument, Portfolio, Transaction, TransactionType
from portal.accounts.models import Organisation
from portal.core.policy import RestrictedQuerySet

MONEY = {"max_digits": 20, "decimal_places": 2}
PRECISE = {"max_digits": 24, "decimal_places": 8}
RATE = {"max_digits": 12, "decimal_places": 8}


class Kind(models.TextChoices):
    UPFRONT = "upfront", _("Upfront")
    TRAILING = "trailing", _("Trailing")
    FIXED = "fixed", _("Fixed per event")
    OVERRIDE = "override", _("Manager override")


class CommissionPlan(models.Model):
    """The rates for one scope: the house default, a broker firm, or a single broker.

    For a broker's business the broker's own plan is asked first, then the firm's, then the
    default; the first with a rule that fits decides. A firm's plan may name the firm manager
    who earns an override on the firm's brokers' commissions.
    """

    name = models.CharField(_("name"), max_length=200)
    firm = models.ForeignKey(
        Organisation, verbose_name=_("firm"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    broker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("broker"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="commission_plans",
    )
    override_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("manager earning the override"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Firm plans only: the firm manager who earns the override on the firm's brokers."),
    )
    # "default", "firm:<id>" or "broker:<id>": one plan per scope, enforced by the database.
    scope_key = models.CharField(max_length=40, unique=True, editable=False)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["scope_key"]
        verbose_name = _("commission plan")
        verbose_name_plural = _("commission plans")
        constraints = [
            models.CheckConstraint(
                condition=~(models.Q(firm__isnull=False) & models.Q(broker__isnull=False)), name="plan_one_scope"
            ),
            models.CheckConstraint(
                condition=models.Q(override_manager__isnull=True) | models.Q(firm__isnull=False),
                name="plan_override_on_firm_plans",
            ),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.scope_key = self.compute_scope_key()
        super().save(*args, **kwargs)

    def compute_scope_key(self) -> str:
        if self.broker_id:
            return f"broker:{self.broker_id}"
        if self.firm_id:
            return f"firm:{self.firm_id}"
        return "default"

    def clean(self):
        if self.firm_id and self.broker_id:
            raise ValidationError(_("A plan is for a firm or for a broker, not both."))
        if self.override_manager_id and not self.firm_id:
            raise ValidationError({"override_manager": _("Only a firm's plan can name a manager's override.")})
        if self.override_manager_id and self.override_manager.organisation_id != self.firm_id:
            raise ValidationError({"override_manager": _("The manager must work for this firm.")})


class CommissionRule(models.Model):
    """One dated rate of a plan. A later row for the same product and event supersedes it from its
    `valid_from`; rows that accruals used are never edited, so past accruals keep their rate."""

    plan = models.ForeignKey(CommissionPlan, verbose_name=_("plan"), on_delete=models.PROTECT, related_name="rules")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    asset_class = models.CharField(
        _("asset class"), max_length=16, choices=AssetClass.choices, blank=True, help_text=_("Empty: every class.")
    )
    instrument = models.ForeignKey(
        Instrument,
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("A single product; wins over its asset class."),
    )
    event = models.CharField(
        _("event"), max_length=16, choices=TransactionType.choices, blank=True, help_text=_("Fixed amounts only.")
    )
    rate = models.DecimalField(
        _("rate"), **RATE, null=True, blank=True, help_text=_("A fraction: 0.01 is 1 % (trailing: per year).")
    )
    amount = models.DecimalField(_("amount (EUR)"), **MONEY, null=True, blank=True)
    valid_from = models.DateField(_("valid from"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["plan", "kind", "asset_class", "valid_from"]
        verbose_name = _("commission rule")
        verbose_name_plural = _("commission rules")
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "kind", "asset_class", "instrument", "event", "valid_from"],
                name="rule_one_per_slot_and_day",
            ),
            models.CheckConstraint(
                condition=models.Q(rate__gte=0) | models.Q(rate__isnull=True), name="rule_rate_ge_0"
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gte=0) | models.Q(amount__isnull=True), name="rule_amount_ge_0"
            ),
        ]

    def __str__(self):
        what = self.instrument or self.get_asset_class_display() or _("all products")
        value = f"{self.amount} EUR" if self.kind == Kind.FIXED else f"{self.rate}"
        return f"{self.plan} · {self.get_kind_display()} · {what} · {value} from {self.valid_from}"

    @property
    def slot(self) -> tuple:
        return (self.kind, self.instrument_id, self.asset_class, self.event)

    def clean(self):
        errors = {}
        if self.kind == Kind.FIXED:
            if self.amount is None:
                errors["amount"] = _("A fixed commission needs an amount.")
            if not self.event:
                errors["event"] = _("A fixed commission needs the event that triggers it.")
            elif self.event == TransactionType.REVERSAL:
                # A reversal cancels a booking: it takes commission back (accrual.py), never earns any.
                errors["event"] = _("A reversal cancels a booking; it cannot earn a commission.")
            if self.rate is not None:
                errors["rate"] = _("A fixed commission has an amount, not a rate.")
        else:
            if self.rate is None:
                errors["rate"] = _("This kind of commission needs a rate.")
            elif self.rate > 1:
                errors["rate"] = _("Rates are fractions: 0.01 is 1 %.")
            if self.amount is not None:
                errors["amount"] = _("Only fixed commissions have an amount.")
            if self.event:
                errors["event"] = _("Only fixed commissions are triggered by an event.")
        if self.kind in (Kind.TRAILING, Kind.OVERRIDE) and (self.asset_class or self.instrument_id):
            errors["asset_class"] = _("Trailing and override rates apply to the whole book.")
        if self.kind == Kind.OVERRIDE and self.plan_id and not self.plan.firm_id:
            errors["kind"] = _("Overrides belong in a firm's plan.")
        if errors:
            raise ValidationError(errors)


class CommissionMonth(models.Model):
    """A month of accruals: open (recomputed by every run) until back office closes it."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSING = "closing", _("Closing")
        CLOSED = "closed", _("Closed")

    period = models.DateField(_("month"), unique=True)  # the first day
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    last_accrued_at = models.DateTimeField(_("last computed"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("closed by"), on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        ordering = ["-period"]
        verbose_name = _("commission month")
        verbose_name_plural = _("commission months")

    def __str__(self):
        return f"{self.period:%Y-%m}"


class Statement(models.Model):
    """One person's commissions for one month and their payout status.

    While the month is open the totals follow the accruals; closing the month prepares the
    statement (totals frozen, PDF rendered) and asks the approval engine for a second pair of eyes
    (portal.approvals, kind "commissions.statement"): another back-office person approves it (never
    the one who prepared it), then it is marked paid; or rejects it with a reason, after which back
    office prepares it again (a new approval). The beneficiary sees a rejected statement as "in review".
    """

    class Status(models.TextChoices):
        ACCRUED = "accrued", _("Accrued")
        PREPARED = "prepared", _("Prepared, awaiting approval")
        REJECTED = "rejected", _("Rejected, to be prepared again")
        APPROVED = "approved", _("Approved")
        PAID = "paid", _("Paid")

    beneficiary = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("beneficiary"),
        on_delete=models.PROTECT,
        related_name="commission_statements",
    )
    firm = models.ForeignKey(
        Organisation, verbose_name=_("firm"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    period = models.DateField(_("month"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACCRUED)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    total = models.DecimalField(_("total"), **MONEY, default=0)
    upfront = models.DecimalField(_("upfront"), **MONEY, default=0)
    trailing = models.DecimalField(_("trailing"), **MONEY, default=0)
    fixed = models.DecimalField(_("fixed"), **MONEY, default=0)
    override = models.DecimalField(_("override"), **MONEY, default=0)
    accrual_count = models.PositiveIntegerField(_("entries"), default=0)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    prepared_at = models.DateTimeField(_("prepared"), null=True, blank=True)
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("prepared by"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("approved by"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    rejected_at = models.DateTimeField(_("rejected"), null=True, blank=True)
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("rejected by"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    rejection_reason = models.TextField(_("rejection reason"), blank=True)
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("marked paid by"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    payment_reference = models.CharField(_("payment reference"), max_length=100, blank=True)
    pdf = models.FileField(_("statement PDF"), upload_to="commissions/statements/%Y/%m/", blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)

    # Statement.objects.restrict(actor, action): the policy in permissions.py.
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-period", "beneficiary_id"]
        verbose_name = _("commission statement")
        verbose_name_plural = _("commission statements")
        constraints = [
            models.UniqueConstraint(fields=["beneficiary", "period"], name="statement_one_per_month"),
            models.CheckConstraint(
                condition=models.Q(approved_by__isnull=True) | ~models.Q(approved_by=models.F("prepared_by")),
                name="statement_four_eyes",
            ),
        ]
        indexes = [models.Index(fields=["firm", "-period"], name="statement_firm_period_idx")]
        permissions = [
            ("view_firm_commissions", _("Can see the commissions of the brokers of one's own firm")),
        ]

    def __str__(self):
        return f"{self.beneficiary} {self.period:%Y-%m}"

    @property
    def period_end(self) -> date:
        return month_end(self.period)

    def status_seen_by(self, viewer_sees_everything: bool) -> str:
        """The status as its reader may know it: back office sees a rejection; the beneficiary and their
        firm see a prepared or rejected statement as in review (it is not paid either way)."""
        if not viewer_sees_everything and self.status in (self.Status.PREPARED, self.Status.REJECTED):
            return IN_REVIEW
        return self.status


# What a beneficiary reads for a statement back office has not approved yet (prepared or rejected).
IN_REVIEW = "in_review"


class Accrual(models.Model):
    """One commission entry and where it came from."""

    beneficiary = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("beneficiary"), on_delete=models.PROTECT, related_name="+"
    )
    firm = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="accruals")
    period = models.DateField(_("month"))
    date = models.DateField(_("date"))
    days = models.PositiveSmallIntegerField(_("days"), default=1)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.PROTECT, related_name="+")
    portfolio = models.ForeignKey(Portfolio, verbose_name=_("portfolio"), on_delete=models.PROTECT, related_name="+")
    instrument = models.ForeignKey(
        Instrument, verbose_name=_("product"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    asset_class = models.CharField(_("asset class"), max_length=16, choices=AssetClass.choices, blank=True)
    basis = models.DecimalField(_("basis (EUR)"), **PRECISE)
    rate = models.DecimalField(_("rate"), **RATE, null=True, blank=True)
    amount = models.DecimalField(_("amount (EUR)"), **PRECISE)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    rule = models.ForeignKey(CommissionRule, verbose_name=_("rule"), on_delete=models.PROTECT, related_name="+")
    source_transaction = models.ForeignKey(
        Transaction,
        verbose_name=_("source transaction"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # Valuations are rewritten by each revaluation, so a trailing accrual names its valuation by
    # portfolio and day instead of by a row id.
    source_date = models.DateField(_("valuation day"), null=True, blank=True)
    source_accrual = models.ForeignKey(
        "self", verbose_name=_("broker's accrual"), on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    source_key = models.CharField(max_length=64)
    computed_at = models.DateTimeField(auto_now=True)

    # Accrual.objects.restrict(actor, action): the policy in permissions.py.
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["date", "id"]
        verbose_name = _("commission accrual")
        verbose_name_plural = _("commission accruals")
        constraints = [
            models.UniqueConstraint(fields=["beneficiary", "kind", "source_key"], name="accrual_one_per_source"),
        ]
        indexes = [
            models.Index(fields=["beneficiary", "period", "date"], name="accrual_beneficiary_idx"),
            models.Index(fields=["statement", "date"], name="accrual_statement_idx"),
            models.Index(fields=["client", "period"], name="accrual_client_idx"),
        ]

    def __str__(self):
        return f"{self.date} {self.get_kind_display()} {self.amount} {self.currency}"


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(period: date) -> date:
    following = date(period.year + period.month // 12, period.month % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1)
