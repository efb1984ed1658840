"""Writes of the work inbox.

Opening and closing belong to the owning app: it calls `work_item_open` / `work_item_close` inside
its own transaction, next to the change that makes the work wait or ends it (so the item exists
exactly when the work does); they are not durable and not audited (the app audits its change).

Claiming, assigning and releasing are the back office's own: each runs in its own transaction,
re-checks on the row what the page showed, and is audited.

`state` is a short label in English, marked with `gettext_noop` where the app writes it: the page
shows it translated into the reader's language (a stored translation would be in the language of
whoever happened to cause the change). A claim is a conditional update on
"nobody has it yet", so two people claiming at once give one assignee.
"""

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.audit.services import audit_record

from . import counts, permissions, registry
from .models import WorkItem

_FIELD_LIMITS = {"subject": 250, "party": 200, "queue": 64, "state": 100}


def work_item_open(
    *,
    kind: str,
    obj,
    subject: str,
    url: str,
    party: str = "",
    queue: str = "",
    state: str = "",
    due_at=None,
    opened_at=None,
) -> WorkItem:
    """The item of `kind` for `obj` is open with these details (created, updated, or re-opened if closed).

    An item already open keeps its age and its assignee; a closed one opens afresh (new age, nobody
    assigned). Call it inside the app's transaction.
    """
    registry.kind_get(kind)  # a kind nobody registered is a programming error
    content_type = ContentType.objects.get_for_model(obj)
    details = {
        "subject": str(subject)[: _FIELD_LIMITS["subject"]],
        "party": str(party or "")[: _FIELD_LIMITS["party"]],
        "queue": queue or "",
        "state": str(state or "")[: _FIELD_LIMITS["state"]],
        "url": url,
        "due_at": due_at,
    }
    now = timezone.now()
    with transaction.atomic():
        item = _locked(kind, content_type, obj.pk)
        if item is None:
            try:
                with transaction.atomic():  # a savepoint: another transaction may create it first
                    item = WorkItem.objects.create(
                        kind=kind, content_type=content_type, object_id=obj.pk, opened_at=opened_at or now, **details
                    )
            except IntegrityError:
                item = _locked(kind, content_type, obj.pk)
            else:
                counts.items_changed()
                return item
        changed = [name for name, value in details.items() if getattr(item, name) != value]
        for name in changed:
            setattr(item, name, details[name])
        if item.closed_at is not None:
            item.closed_at = None
            item.opened_at = opened_at or now
            item.assignee = None
            item.assigned_at = None
            changed += ["closed_at", "opened_at", "assignee", "assigned_at"]
        if changed:
            item.save(update_fields=changed)
            counts.items_changed()
    return item


def work_item_close(*, kind: str, obj, state: str | None = None) -> None:
    """The work is done: the item of `kind` for `obj` leaves the open list (nothing happens if none is open).

    `state`, if given, is the outcome the closed item shows (e.g. "Processed").
    """
    content_type = ContentType.objects.get_for_model(obj)
    changes = {"closed_at": timezone.now()}
    if state is not None:
        changes["state"] = str(state)[: _FIELD_LIMITS["state"]]
    closed = WorkItem.objects.filter(
        kind=kind, content_type=content_type, object_id=obj.pk, closed_at__isnull=True
    ).update(**changes)
    if closed:
        counts.items_changed()


def _locked(kind, content_type, object_id) -> WorkItem | None:
    return (
        WorkItem.objects.select_for_update().filter(kind=kind, content_type=content_type, object_id=object_id).first()
    )


def _item_for_work(actor, item_id) -> WorkItem:
    """The item, locked, if the actor may work on it (else 404), and still open."""
    try:
        item = WorkItem.objects.select_for_update().restrict(actor, "work").get(pk=item_id)
    except (WorkItem.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if item.closed_at is not None:
        raise ValidationError(_("This item is already closed."), code="closed")
    return item


def _holder(item) -> str:
    return item.assignee.email if item.assignee_id else ""


def work_item_claim(*, actor, item_id) -> WorkItem:
    """The actor takes the item on; refused if somebody else has it already."""
    with transaction.atomic(durable=True):
        try:
            item = WorkItem.objects.restrict(actor, "work").get(pk=item_id)
        except (WorkItem.DoesNotExist, ValueError, TypeError):
            raise Http404 from None
        now = timezone.now()
        # Conditional: of two people claiming at once exactly one finds the row still unassigned.
        taken = WorkItem.objects.filter(pk=item.pk, assignee__isnull=True, closed_at__isnull=True).update(
            assignee=actor, assigned_at=now
        )
        item.refresh_from_db()
        if not taken:
            if item.closed_at is not None:
                raise ValidationError(_("This item is already closed."), code="closed")
            if item.assignee_id == actor.pk:
                return item  # claimed twice by the same person: nothing changes
            raise ValidationError(
                _("%(person)s has already claimed this item.") % {"person": item.assignee}, code="taken"
            )
        audit_record(action="inbox.item_claimed", actor=actor, obj=item, changes={"assignee": ["", actor.email]})
        counts.items_changed()
    return item


def work_item_assign(*, actor, item_id, assignee_id) -> WorkItem:
    """The actor hands the item to a colleague who holds one of its kind's roles (and sees the item)."""
    with transaction.atomic(durable=True):
        item = _item_for_work(actor, item_id)
        try:
            assignee = get_user_model().objects.get(pk=assignee_id, is_active=True)
        except (get_user_model().DoesNotExist, ValueError, TypeError):
            raise ValidationError(_("Choose a colleague from the list."), code="assignee") from None
        if not permissions.may_take(assignee, item):
            raise ValidationError(
                _("%(person)s cannot take this item: it is not among their work.") % {"person": assignee},
                code="assignee",
            )
        if item.assignee_id == assignee.pk:
            return item
        before = _holder(item)
        item.assignee = assignee
        item.assigned_at = timezone.now()
        item.save(update_fields=["assignee", "assigned_at"])
        audit_record(
            action="inbox.item_assigned", actor=actor, obj=item, changes={"assignee": [before, assignee.email]}
        )
        counts.items_changed()
    return item


def work_item_release(*, actor, item_id) -> WorkItem:
    """The assignee gives the item back to the team (unassigned)."""
    with transaction.atomic(durable=True):
        item = _item_for_work(actor, item_id)
        if item.assignee_id != actor.pk:
            raise ValidationError(_("Only the person who has the item can release it."), code="not_assignee")
        item.assignee = None
        item.assigned_at = None
        item.save(update_fields=["assignee", "assigned_at"])
        audit_record(action="inbox.item_released", actor=actor, obj=item, changes={"assignee": [actor.email, ""]})
        counts.items_changed()
    return item


def work_items_sync() -> dict[str, int]:
    """Every kind with a `sync` opens the items of its objects still waiting; returns how many per kind."""
    return {kind.key: kind.sync() for kind in registry.kind_list() if kind.sync is not None}
