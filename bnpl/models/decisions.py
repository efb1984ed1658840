"""Credit decisions: the rules back office configures, how they combine, and each order's decision with its trace."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.core.policy import RestrictedQuerySet


class Operator(models.TextChoices):
    EQ = "eq", _("equals")
    NE = "ne", _("does not equal")
    LT = "lt", _("less than")
    LE = "le", _("at most")
    GT = "gt", _("more than")
    GE = "ge", _("at least")
    IN = "in", _("is one of")
    NOT_IN = "not_in", _("is none of")
    IS_TRUE = "is_true", _("is true")
    IS_FALSE = "is_false", _("is false")


class CreditRule(models.Model):
    """One condition on a fact of the order or its shopper (bnpl.decisions.FACTS), e.g. `age ge 18`.

    `value` is text, parsed with the fact's type when the rule is saved (the form) and when it is read.
    """

    name = models.CharField(_("name"), max_length=100)
    fact = models.CharField(_("fact"), max_length=40)
    operator = models.CharField(_("operator"), max_length=10, choices=Operator.choices)
    value = models.CharField(_("value"), max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=10)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("credit rule")
        verbose_name_plural = _("credit rules")
        constraints = [
            models.CheckConstraint(condition=Q(operator__in=Operator.values), name="bnpl_credit_rule_operator_known"),
        ]

    def __str__(self):
        return f"{self.name}: {self.fact} {self.operator} {self.value}".strip()


class CreditRuleSet(models.Model):
    """How the active rules combine: all must pass, or any one is enough. One row (pk 1)."""

    class Combine(models.TextChoices):
        ALL = "all", _("All rules must pass")
        ANY = "any", _("Any one rule is enough")

    combine = models.CharField(_("combine"), max_length=3, choices=Combine.choices, default=Combine.ALL)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("credit rule set")
        verbose_name_plural = _("credit rule sets")
        constraints = [
            models.CheckConstraint(condition=Q(combine__in=["all", "any"]), name="bnpl_credit_rule_set_combine"),
        ]

    def __str__(self):
        return str(self.get_combine_display())

    @classmethod
    def current(cls) -> "CreditRuleSet":
        return cls.objects.get_or_create(pk=1)[0]


class CreditDecision(models.Model):
    """The credit decision on one order: outcome, the rules as they were, and what each rule saw.

    `trace` is a list of {"rule", "rule_id", "fact", "operator", "expected", "seen", "passed"};
    `rule_set` is the snapshot {"combine", "rules": [...]} the decision was taken with. A review
    (the seed's "user") adds the reviewer's recommendation; the approval engine keeps the final word.
    """

    class Outcome(models.TextChoices):
        APPROVED = "approved", _("Approved")
        REVIEW = "review", _("Manual review")
        DECLINED = "declined", _("Declined")

    class Recommendation(models.TextChoices):
        APPROVE = "approve", _("Approve")
        DECLINE = "decline", _("Decline")

    order = models.ForeignKey(
        "bnpl.Order", verbose_name=_("order"), on_delete=models.PROTECT, related_name="credit_decisions"
    )
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    over_limit = models.BooleanField(_("over the purchase limit"), default=False)
    trace = models.JSONField(_("trace"), default=list)
    rule_set = models.JSONField(_("rule set"), default=dict)
    decided_at = models.DateTimeField(_("decided"), default=timezone.now)
    recommendation = models.CharField(
        _("reviewer's recommendation"), max_length=10, choices=Recommendation.choices, blank=True
    )
    review_note = models.TextField(_("reviewer's note"), blank=True)
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("prepared by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    prepared_at = models.DateTimeField(_("prepared"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-decided_at", "-id"]
        verbose_name = _("credit decision")
        verbose_name_plural = _("credit decisions")
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=["approved", "review", "declined"]), name="bnpl_credit_decision_outcome"
            ),
            models.CheckConstraint(
                condition=Q(prepared_by__isnull=True) | (Q(prepared_at__isnull=False) & ~Q(recommendation="")),
                name="bnpl_credit_decision_prepared_complete",
            ),
        ]
        indexes = [models.Index(fields=["order", "-decided_at"], name="bnpl_decision_order_idx")]

    def __str__(self):
        return f"{self.order} · {self.outcome}"
