"""The section every pack carries whatever the case: its audit events.

The events of the case and of the objects its kind names as related (a signed request's evidence
record), oldest first, each with who, from where (IP, user agent), under which request id, and
what changed. Registered in apps.py as `audit_events`, so it lands in `audit_events.csv`.
"""

import json

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.audit.actions import action_label, object_type_label
from portal.audit.models import AuditEvent

from .registry import EvidenceSection, evidence_kind_for

AUDIT_SECTION = "audit_events"


def case_objects(obj) -> list:
    """The case and its related objects (as its kind names them), without repeats or gaps."""
    kind = evidence_kind_for(type(obj))
    related = list(kind.related(obj)) if kind is not None else []
    seen, objects = set(), []
    for item in [obj, *related]:
        if item is None or item.pk is None:
            continue
        key = (item._meta.label_lower, str(item.pk))
        if key not in seen:
            seen.add(key)
            objects.append(item)
    return objects


def audit_events_of(objects) -> list[AuditEvent]:
    where = Q(pk__in=[])
    for item in objects:
        where |= Q(object_type=item._meta.label_lower, object_id=str(item.pk))
    return list(AuditEvent.objects.filter(where).select_related("actor").order_by("created_at", "id"))


def timestamp(moment) -> str:
    """A time as the pack writes it everywhere: ISO 8601 to the second, in the portal's time zone."""
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else ""


def audit_section_build(obj) -> EvidenceSection:
    events = audit_events_of(case_objects(obj))
    return EvidenceSection(
        key=AUDIT_SECTION,
        title=_("Audit trail"),
        columns=[
            _("Time"),
            _("Actor"),
            _("Action"),
            _("Action code"),
            _("Object"),
            _("IP address"),
            _("User agent"),
            _("Request id"),
            _("Changes"),
        ],
        rows=[
            [
                timestamp(event.created_at),
                event.actor_label or (event.actor.email if event.actor else ""),
                str(action_label(event.action)),
                event.action,
                f"{object_type_label(event.object_type)} {event.object_id}".strip(),
                event.ip or "",
                event.user_agent,
                event.request_id,
                json.dumps(event.changes, ensure_ascii=False, sort_keys=True) if event.changes else "",
            ]
            for event in events
        ],
        note=_("Every event recorded for this case and its related records, oldest first."),
    )
