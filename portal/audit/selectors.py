from .models import AuditEvent


def audit_event_list(*, actor, object_type: str = "", object_id: str = ""):
    """Audit events the actor may read: staff see all, everyone else only what they did themselves."""
    events = AuditEvent.objects.select_related("actor")
    if not actor.is_staff:
        events = events.filter(actor=actor)
    if object_type:
        events = events.filter(object_type=object_type)
    if object_id:
        events = events.filter(object_id=object_id)
    return events
