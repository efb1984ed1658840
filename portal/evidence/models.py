from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.core.policy import RestrictedQuerySet


def pack_path(instance, filename: str) -> str:
    # Under MEDIA_ROOT, which no URL serves: the ZIP leaves only through the authorising download view.
    return f"evidence/{instance.created_at:%Y/%m}/{filename}"


class EvidencePack(models.Model):
    """One ZIP of everything a case holds, built by a Celery task for the staff member who asked.

    The case is any object whose app registered an evidence kind (portal/evidence/registry.py).
    `sha256` and `size` describe the ZIP as stored, so a copy handed to a regulator can be checked.
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        BUILDING = "building", _("Building")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    PENDING = (State.QUEUED, State.BUILDING)

    content_type = models.ForeignKey(ContentType, verbose_name=_("type of case"), on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField(_("case id"))
    case = GenericForeignKey("content_type", "object_id")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+"
    )
    # The requester's language when they asked: the summary's labels are written in it.
    language = models.CharField(_("language"), max_length=8, default="en")
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    file = models.FileField(_("ZIP"), upload_to=pack_path, blank=True, max_length=300)
    sha256 = models.CharField("SHA-256", max_length=64, blank=True)
    size = models.PositiveBigIntegerField(_("size"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    # Written when a worker claims the pack and at every step: a pack building with an old heartbeat
    # lost its worker, and the next request for the case starts a new one.
    heartbeat_at = models.DateTimeField(_("heartbeat"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    # EvidencePack.objects.restrict(actor, action): the policy in permissions.py.
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("evidence pack")
        verbose_name_plural = _("evidence packs")
        indexes = [
            models.Index(fields=["content_type", "object_id", "-created_at"], name="evidence_case_idx"),
            models.Index(fields=["requested_by", "-created_at"], name="evidence_requester_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="evidence_progress_percent"),
            # A ready pack has its file and the file's hash; nothing else claims to be ready.
            models.CheckConstraint(
                condition=~models.Q(state="ready") | (~models.Q(file="") & ~models.Q(sha256="")),
                name="evidence_ready_has_file",
            ),
        ]

    def __str__(self):
        return f"{_('Evidence pack')} {self.pk} ({self.content_type.model} {self.object_id})"

    @property
    def pending(self) -> bool:
        return self.state in self.PENDING

    @property
    def download_name(self) -> str:
        return f"evidence-{self.content_type.model}-{self.object_id}-{self.pk}.zip"
