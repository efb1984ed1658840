"""The fee module: customer groups, fee schedules (person > fee status > group > region > default), fee status
assigned by rules from behaviour, and the fees charged (never twice for one instalment and kind).

Amounts are Decimal with their currency; shares are percent (10.00 for 10 %).
"""

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.core.policy import RestrictedQuerySet

from ..money import CURRENCY_CHOICES, MONEY, currency_check

PERCENT = {"max_digits": 5, "decimal_places": 2}
NOT_NEGATIVE = [MinValueValidator(0)]
REGION_VALIDATOR = RegexValidator(
    r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$", _("A region is an ISO 3166 code in capitals: DE, or DE-BY for a subdivision.")
)


class CustomerGroup(models.Model):
    """Shoppers grouped for their fees (`Shopper.customer_group`)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("customer group")
        verbose_name_plural = _("customer groups")

    def __str__(self):
        return self.name


class FeeStatusKind(models.TextChoices):
    STANDARD = "standard", _("Standard")
    WATCH = "watch", _("Watch")
    LOYAL = "loyal", _("Loyal")
    RESTRICTED = "restricted", _("Restricted")


class FeeSchedule(models.Model):
    """Fee levels for one scope and currency; the most specific active one applies (see bnpl.fees):
    person > fee status > group > region > default."""

    class Scope(models.TextChoices):
        PERSON = "person", _("Person")
        STATUS = "status", _("Fee status")
        GROUP = "group", _("Group")
        REGION = "region", _("Region")
        DEFAULT = "default", _("Default")

    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices)
    shopper = models.ForeignKey(
        "bnpl.Shopper",
        verbose_name=_("shopper"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="fee_schedules",
    )
    group = models.ForeignKey(
        CustomerGroup,
        verbose_name=_("customer group"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="fee_schedules",
    )
    # The fee status whose shoppers this schedule is for (status scope only); "standard" has none:
    # a standard shopper gets the group, region or default schedule.
    status = models.CharField(
        _("fee status"),
        max_length=12,
        blank=True,
        choices=[(k, label) for k, label in FeeStatusKind.choices if k != FeeStatusKind.STANDARD],
    )
    # ISO 3166-2 ("DE-BY") or a country ("DE"); a country's schedule also covers its subdivisions.
    region = models.CharField(_("region"), max_length=10, blank=True, validators=[REGION_VALIDATOR])
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES, default="EUR")
    late_fee_amount = models.DecimalField(_("late fee"), **MONEY, validators=NOT_NEGATIVE)
    grace_days = models.PositiveSmallIntegerField(_("grace days"), default=0)
    dunning_fee_amount = models.DecimalField(_("dunning fee"), **MONEY, default=0, validators=NOT_NEGATIVE)
    cap_per_instalment = models.DecimalField(_("cap per instalment"), **MONEY, validators=NOT_NEGATIVE)
    cap_share_of_purchase = models.DecimalField(
        _("cap as a share of the purchase (%)"), **PERCENT, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    active = models.BooleanField(_("active"), default=True)
    valid_from = models.DateField(_("valid from"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["scope", "currency", "-valid_from", "id"]
        verbose_name = _("fee schedule")
        verbose_name_plural = _("fee schedules")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(scope="person", shopper__isnull=False, group__isnull=True, region="", status="")
                    | (
                        Q(scope="status", shopper__isnull=True, group__isnull=True, region="")
                        & Q(status__in=["watch", "loyal", "restricted"])
                    )
                    | Q(scope="group", shopper__isnull=True, group__isnull=False, region="", status="")
                    | (Q(scope="region", shopper__isnull=True, group__isnull=True, status="") & ~Q(region=""))
                    | Q(scope="default", shopper__isnull=True, group__isnull=True, region="", status="")
                ),
                name="bnpl_feeschedule_scope_target",
            ),
            models.CheckConstraint(
                condition=Q(late_fee_amount__gte=0) & Q(dunning_fee_amount__gte=0) & Q(cap_per_instalment__gte=0),
                name="bnpl_feeschedule_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(cap_share_of_purchase__gte=0) & Q(cap_share_of_purchase__lte=100),
                name="bnpl_feeschedule_share_percent",
            ),
            models.CheckConstraint(condition=currency_check(), name="bnpl_feeschedule_currency_iso"),
            models.CheckConstraint(
                condition=Q(region="") | Q(region__regex=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$"),
                name="bnpl_feeschedule_region_iso",
            ),
        ]

    def __str__(self):
        return f"{self.get_scope_display()} {self.target_label()} · {self.currency}"

    def target_label(self) -> str:
        if self.scope == self.Scope.PERSON:
            return str(self.shopper)
        if self.scope == self.Scope.STATUS:
            return self.get_status_display()
        if self.scope == self.Scope.GROUP:
            return str(self.group)
        if self.scope == self.Scope.REGION:
            return self.region
        return ""


class FeeStatusRule(models.Model):
    """One line of the rule builder: when the condition holds, the shopper gets `status`.

    Rules are tried by `position`; the first active one that matches decides, none → standard.
    """

    class Condition(models.TextChoices):
        LATE_PAYMENTS = "late_payments_in_days", _("Late payments in the last N days at least")
        ON_TIME_STREAK = "on_time_streak", _("Instalments paid on time in a row at least")
        OPEN_BALANCE = "open_balance", _("Open balance at least")

    name = models.CharField(_("name"), max_length=100)
    condition = models.CharField(_("condition"), max_length=30, choices=Condition.choices)
    # N for late payments in the last N days; unused otherwise.
    days = models.PositiveSmallIntegerField(_("days"), null=True, blank=True)
    threshold = models.DecimalField(_("at least"), **MONEY, validators=NOT_NEGATIVE)
    # The currency of an open-balance threshold (balances in other currencies are not added to it).
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES, default="EUR")
    status = models.CharField(_("resulting status"), max_length=12, choices=FeeStatusKind.choices)
    position = models.PositiveSmallIntegerField(_("position"), default=1)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("fee status rule")
        verbose_name_plural = _("fee status rules")
        constraints = [
            models.CheckConstraint(condition=Q(threshold__gte=0), name="bnpl_feestatusrule_threshold_not_negative"),
            models.CheckConstraint(
                condition=~Q(condition="late_payments_in_days") | Q(days__gte=1),
                name="bnpl_feestatusrule_days_for_late",
            ),
            models.CheckConstraint(condition=currency_check(), name="bnpl_feestatusrule_currency_iso"),
        ]

    def __str__(self):
        return self.name


class FeeStatus(models.Model):
    """A shopper's current fee status, kept by bnpl.fees.fee_status_evaluate/-reevaluate."""

    shopper = models.OneToOneField(
        "bnpl.Shopper", verbose_name=_("shopper"), on_delete=models.PROTECT, related_name="fee_status"
    )
    status = models.CharField(_("status"), max_length=12, choices=FeeStatusKind.choices, default=FeeStatusKind.STANDARD)
    since = models.DateTimeField(_("since"), default=timezone.now)
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["shopper"]
        verbose_name = _("fee status")
        verbose_name_plural = _("fee statuses")

    def __str__(self):
        return f"{self.shopper}: {self.get_status_display()}"


class FeeStatusChange(models.Model):
    shopper = models.ForeignKey(
        "bnpl.Shopper", verbose_name=_("shopper"), on_delete=models.PROTECT, related_name="fee_status_changes"
    )
    from_status = models.CharField(_("from"), max_length=12, choices=FeeStatusKind.choices)
    to_status = models.CharField(_("to"), max_length=12, choices=FeeStatusKind.choices)
    reason = models.CharField(_("reason"), max_length=300)
    at = models.DateTimeField(_("at"), default=timezone.now)
    rule = models.ForeignKey(
        FeeStatusRule, verbose_name=_("rule"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("fee status change")
        verbose_name_plural = _("fee status changes")
        indexes = [models.Index(fields=["shopper", "-at"], name="bnpl_feestatuschange_idx")]

    def __str__(self):
        return f"{self.shopper}: {self.from_status} → {self.to_status}"


class FeeCharge(models.Model):
    """A fee charged on one instalment; at most one of each kind (the unique constraint says so)."""

    class Kind(models.TextChoices):
        LATE = "late", _("Late fee")
        DUNNING = "dunning", _("Dunning fee")

    instalment = models.ForeignKey(
        "bnpl.Instalment", verbose_name=_("instalment"), on_delete=models.PROTECT, related_name="fee_charges"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    amount = models.DecimalField(_("amount"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3)
    charged_at = models.DateTimeField(_("charged"), default=timezone.now)
    reason = models.CharField(_("reason"), max_length=300)
    schedule = models.ForeignKey(
        FeeSchedule, verbose_name=_("fee schedule"), on_delete=models.PROTECT, related_name="charges"
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-charged_at", "-id"]
        verbose_name = _("fee charge")
        verbose_name_plural = _("fee charges")
        constraints = [
            models.UniqueConstraint(fields=["instalment", "kind"], name="bnpl_feecharge_once_per_kind"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="bnpl_feecharge_amount_positive"),
            models.CheckConstraint(condition=currency_check(), name="bnpl_feecharge_currency_iso"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount} {self.currency}"
