from django.db import models

from . import context
from .models import AuditEvent


def audit_record(
    *,
    action: str,
    actor=None,
    obj: models.Model | None = None,
    changes: dict | None = None,
    actor_label: str = "",
) -> AuditEvent:
    """Append one event to the audit trail, with the current request's id, IP and user agent.

    Call it inside the service's transaction so that the event exists exactly when the change does.
    """
    request = context.current()
    if actor is not None and not getattr(actor, "is_authenticated", True):
        actor = None
    return AuditEvent.objects.create(
        actor=actor,
        actor_label=actor_label or (getattr(actor, "email", "") if actor is not None else ""),
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        changes=changes or {},
        ip=request.ip if request else None,
        user_agent=request.user_agent if request else "",
        request_id=request.request_id if request else "",
    )
