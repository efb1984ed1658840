"""Writes of evidence packs: a request (queued for Celery after commit) and a download, each audited.

Both events are written on the case itself (`evidence.pack_requested`, `evidence.pack_downloaded`),
so the case's own history says who pulled its evidence and when, and the next pack carries that too.
"""

import logging
from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.audit.services import audit_record
from portal.core.task_retry import TRANSIENT_ERRORS

from .building import evidence_pack_fail
from .models import EvidencePack
from .permissions import can_build_for

logger = logging.getLogger(__name__)

# A pack with no sign of life for this long lost its task or its worker; the next request starts anew.
STALE_AFTER = timedelta(minutes=10)


def evidence_pack_request(*, actor, obj) -> EvidencePack:
    """Queue a pack of `obj`'s evidence for `actor`, or return the one already on its way for the case.

    The case's kind decides who may (`can_build`), checked again on the locked case row; refused, the
    actor learns nothing about the case (PermissionDenied, which the views answer as 404).
    """
    model = type(obj)
    content_type = ContentType.objects.get_for_model(model)
    with transaction.atomic(durable=True):
        # The case's row serialises the requests for it: two clicks (or two colleagues) make one pack.
        case = model._default_manager.select_for_update().filter(pk=obj.pk).first()
        if not can_build_for(actor, case):
            raise PermissionDenied(_("You may not build the evidence of this case."))
        pending = (
            EvidencePack.objects.filter(content_type=content_type, object_id=case.pk, state__in=EvidencePack.PENDING)
            .order_by("-created_at", "-id")
            .first()
        )
        if pending is not None:
            last_sign = pending.heartbeat_at or pending.created_at
            if last_sign >= timezone.now() - STALE_AFTER:
                return pending
            evidence_pack_fail(pending.pk, _("The build stopped without finishing; a new pack was requested."))
        pack = EvidencePack.objects.create(
            content_type=content_type,
            object_id=case.pk,
            requested_by=actor,
            language=getattr(actor, "language", "") or "en",
        )
        audit_record(action="evidence.pack_requested", actor=actor, obj=case, changes={"pack": pack.pk})
        transaction.on_commit(lambda: _build_publish(pack.pk))
    return pack


def evidence_pack_download(*, actor, pack: EvidencePack) -> EvidencePack:
    """Record that `actor` downloads a ready pack (the view has checked access), on the case and its ZIP hash."""
    if pack.state != EvidencePack.State.READY:
        raise PermissionDenied(_("This evidence pack is not ready."))
    case = pack.case
    with transaction.atomic(durable=True):
        audit_record(
            action="evidence.pack_downloaded",
            actor=actor,
            obj=case if case is not None else pack,
            changes={"pack": pack.pk, "sha256": pack.sha256},
        )
    return pack


def _build_publish(pack_id: int) -> None:
    """Hand the build to the broker; a broker that is away is logged: the next request starts anew."""
    from .tasks import evidence_pack_build

    try:
        evidence_pack_build.delay(pack_id)
    except TRANSIENT_ERRORS:
        logger.warning("Could not queue the build of evidence pack %s.", pack_id, exc_info=True)
