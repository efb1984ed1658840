"""One row per piece of work waiting in the back office, written by the app that owns the work.

The table is denormalised on purpose: the subject, the customer or partner, the queue and the link
are copied in when the app opens the item (`portal.inbox.services.work_item_open`), so the inbox
page is one bounded query over this table whatever the number of kinds and items; it never asks
the owning apps for anything.
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.core.policy import RestrictedQuerySet


class WorkItem(models.Model):
    # The registered kind (portal.inbox.registry), e.g. "signing.signed_request".
    kind = models.CharField(_("kind"), max_length=64)
    content_type = models.ForeignKey(ContentType, verbose_name=_("object type"), on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField(_("object id"))
    obj = GenericForeignKey("content_type", "object_id")

    subject = models.CharField(_("subject"), max_length=250)
    party = models.CharField(_("customer or partner"), max_length=200, blank=True)
    # Narrows who sees the item within its kind's roles (a department, e.g. "credit"); may be blank.
    queue = models.CharField(_("queue"), max_length=64, blank=True)
    state = models.CharField(_("state"), max_length=100, blank=True)
    url = models.CharField(_("link"), max_length=500)

    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    assigned_at = models.DateTimeField(_("assigned"), null=True, blank=True)
    # Null while the item waits; set when the owning app says the work is done.
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    # WorkItem.objects.restrict(actor, action): portal.inbox.permissions.WorkItemPolicy.
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("work item")
        verbose_name_plural = _("work items")
        ordering = ["opened_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "content_type", "object_id"], name="inbox_item_one_per_object"),
            models.CheckConstraint(
                condition=Q(assignee__isnull=True) | Q(assigned_at__isnull=False), name="inbox_item_assigned_at"
            ),
        ]
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="inbox_item_object_idx"),
            # The open list by age and by due time; closed items by when they closed.
            models.Index(fields=["closed_at", "kind", "opened_at"], name="inbox_item_open_idx"),
            models.Index(fields=["closed_at", "due_at"], name="inbox_item_due_idx"),
            models.Index(fields=["assignee", "closed_at"], name="inbox_item_assignee_idx"),
        ]

    def __str__(self):
        return self.subject

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def is_overdue(self, now=None) -> bool:
        return self.is_open and self.due_at is not None and self.due_at < (now or timezone.now())
