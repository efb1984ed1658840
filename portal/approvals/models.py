"""An approval attached to any object, and the decisions people took on it.

The state changes only through `services.py` (row locked, rules checked there); the database
adds what it can hold by itself: one pending approval per case, one approval per person.
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.core.policy import RestrictedQuerySet

from .registry import kind_label


class Approval(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        EXPIRED = "expired", _("Expired")

    kind = models.CharField(_("kind"), max_length=64)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("content_type", "object_id")
    maker = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("maker"), on_delete=models.PROTECT, related_name="approvals_made"
    )
    amount = models.DecimalField(_("amount"), max_digits=20, decimal_places=2, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING)
    approvals_required = models.PositiveSmallIntegerField(_("approvals required"), default=1)
    note = models.TextField(_("note from the maker"), blank=True)
    requested_at = models.DateTimeField(_("requested"))
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    rejection_reason = models.TextField(_("rejection reason"), blank=True)
    # What the case looked like when it was asked for: lists and the work inbox show it unjoined.
    subject = models.CharField(_("subject"), max_length=200)
    party = models.CharField(_("customer or partner"), max_length=200, blank=True)
    url = models.CharField(_("page of the case"), max_length=300, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-requested_at", "-pk"]
        verbose_name = _("approval")
        verbose_name_plural = _("approvals")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "content_type", "object_id"],
                condition=models.Q(state="pending"),
                name="approval_one_pending_per_case",
            ),
            models.CheckConstraint(condition=models.Q(approvals_required__gte=1), name="approval_required_ge_1"),
        ]
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="approval_object_idx"),
            models.Index(fields=["state", "kind", "-requested_at"], name="approval_state_kind_idx"),
            models.Index(fields=["maker", "-requested_at"], name="approval_maker_idx"),
        ]

    def __str__(self):
        return f"{self.kind_label}: {self.subject}"

    @property
    def kind_label(self) -> str:
        return kind_label(self.kind)

    @property
    def is_pending(self) -> bool:
        return self.state == self.State.PENDING

    @property
    def is_overdue(self) -> bool:
        return self.is_pending and self.due_at is not None and self.due_at < timezone.now()

    # Read from prefetched decisions (selectors prefetch them), so a list costs no query per row.
    def _decisions(self, outcome):
        return [d for d in self.decisions.all() if d.outcome == outcome]

    @property
    def approvers(self) -> list:
        return [d.actor for d in self._decisions(ApprovalDecision.Outcome.APPROVE)]

    @property
    def rejecter(self):
        rejected = self._decisions(ApprovalDecision.Outcome.REJECT)
        return rejected[0].actor if rejected else None

    @property
    def approved_at(self):
        return self.decided_at if self.state == self.State.APPROVED else None

    @property
    def rejected_at(self):
        return self.decided_at if self.state == self.State.REJECTED else None


class ApprovalDecision(models.Model):
    """One person's decision (or the clock's: expiry has no actor). Append-only."""

    class Outcome(models.TextChoices):
        APPROVE = "approve", _("Approved")
        REJECT = "reject", _("Rejected")
        WITHDRAW = "withdraw", _("Withdrawn")
        EXPIRE = "expire", _("Expired")

    approval = models.ForeignKey(Approval, on_delete=models.PROTECT, related_name="decisions")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="approval_decisions",
    )
    outcome = models.CharField(_("decision"), max_length=16, choices=Outcome.choices)
    reason = models.TextField(_("reason"), blank=True)
    at = models.DateTimeField(_("at"))
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("approval decision")
        verbose_name_plural = _("approval decisions")
        constraints = [
            models.UniqueConstraint(
                fields=["approval", "actor"],
                condition=models.Q(outcome="approve"),
                name="approval_decision_one_approval_per_person",
            ),
            models.CheckConstraint(
                condition=~models.Q(outcome="reject") | ~models.Q(reason=""),
                name="approval_decision_rejection_has_reason",
            ),
        ]

    def __str__(self):
        return f"{self.get_outcome_display()} · {self.actor or '—'} · {self.at:%Y-%m-%d %H:%M}"
