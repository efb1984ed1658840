from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients.models import Client
from portal.core.policy import RestrictedQuerySet


class Report(models.Model):
    """A regulatory report requested for a period, rendered to PDF by a Celery task.

    `inputs_hash` is a SHA-256 over the figures the report shows (canonical JSON) together with
    its kind, subject, period and method version: the same request over the same data gives the
    same hash, so a copy can be checked against a reproduction.

    A client report (portfolio statement, costs and charges) is also a document of the client: once
    ready, the client finds it in the client zone and downloads it. Such reports are requested by a
    broker or back office, or issued on schedule by Celery beat (no requester; one per client, kind
    and period, which a constraint keeps).
    """

    class Kind(models.TextChoices):
        COSTS = "costs_charges", _("Ex-post costs and charges statement (per client)")
        INDUCEMENTS = "inducements", _("Inducements disclosure (for a broker)")
        STATEMENT = "portfolio_statement", _("Client portfolio statement")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("In progress")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    # Empty for a statement issued on schedule.
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reports",
    )
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    broker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("broker"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    language = models.CharField(_("language"), max_length=8, default="en")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    error = models.CharField(_("error"), max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    # When the render was last handed to the broker (request, retry, sweep): a report queued long
    # ago and never taken was lost on the way and is queued again.
    queued_at = models.DateTimeField(_("queued"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    # Written when a worker claims the report and at every step: a running report whose heartbeat
    # is old lost its worker (killed, out of memory) and is queued again.
    heartbeat_at = models.DateTimeField(_("heartbeat"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    file = models.FileField(_("PDF"), upload_to="reports/%Y/%m/", blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True)
    inputs_hash = models.CharField(_("inputs hash"), max_length=64, blank=True)
    method = models.CharField(_("method"), max_length=32, blank=True)
    # When the client first downloaded this statement: until then the client zone marks it new.
    client_downloaded_at = models.DateTimeField(_("first downloaded by the client"), null=True, blank=True)

    # Report.objects.restrict(actor, action): the policy in permissions.py.
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        indexes = [
            models.Index(fields=["requested_by", "-created_at"], name="report_requester_idx"),
            # The client's statements (the zone's documents, the schedule's "who still lacks one").
            models.Index(fields=["client", "kind", "period_end"], name="report_client_kind_idx"),
        ]
        constraints = [
            # The schedule issues one statement per client, kind and period, however often it runs.
            models.UniqueConstraint(
                fields=["client", "kind", "period_start", "period_end"],
                condition=models.Q(requested_by__isnull=True),
                name="report_scheduled_once",
            ),
            models.CheckConstraint(condition=models.Q(period_start__lte=models.F("period_end")), name="report_period"),
            models.CheckConstraint(
                condition=(
                    (models.Q(kind="inducements") & models.Q(broker__isnull=False) & models.Q(client__isnull=True))
                    | (~models.Q(kind="inducements") & models.Q(client__isnull=False) & models.Q(broker__isnull=True))
                ),
                name="report_subject",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.period_start}–{self.period_end}"

    @property
    def subject_label(self) -> str:
        if self.client_id:
            return f"{self.client.name} ({self.client.number})"
        if self.broker_id:
            return str(self.broker)
        return ""

    @property
    def scheduled(self) -> bool:
        """Issued by the schedule rather than requested by someone."""
        return self.requested_by_id is None

    @property
    def is_client_document(self) -> bool:
        return self.kind in CLIENT_KINDS

    @property
    def pending(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def download_name(self) -> str:
        subject = self.client.number if self.client_id else f"broker-{self.broker_id}"
        return f"{self.kind}-{subject}-{self.period_start:%Y%m%d}-{self.period_end:%Y%m%d}.pdf"


# The reports that are documents of their client: the client zone lists them once ready.
CLIENT_KINDS = (Report.Kind.STATEMENT, Report.Kind.COSTS)
