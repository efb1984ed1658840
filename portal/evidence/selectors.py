"""Reads of evidence packs, always for an actor: a case they may build evidence for, a pack they may
download, the latest pack of a case. Anything else does not exist for them (404)."""

from django.contrib.contenttypes.models import ContentType
from django.http import Http404

from .models import EvidencePack
from .permissions import can_build_for, packs
from .registry import evidence_kind_for


def evidence_case_access(*, actor, content_type_id: int, object_id: int):
    """The case `actor` may build evidence for, or 404: an unknown type, a kind nobody registered, a
    missing object and a refused one look the same."""
    try:
        content_type = ContentType.objects.get_for_id(content_type_id)
    except ContentType.DoesNotExist:
        raise Http404 from None
    model = content_type.model_class()
    if model is None or evidence_kind_for(model) is None:
        raise Http404
    case = model._default_manager.filter(pk=object_id).first()
    if not can_build_for(actor, case):
        raise Http404
    return case


def evidence_pack_access(*, actor, pack_id: int) -> EvidencePack:
    """A pack for its requester, or for whoever may build the evidence of its case today; else 404."""
    pack = EvidencePack.objects.select_related("content_type", "requested_by").filter(pk=pack_id).first()
    if pack is None:
        raise Http404
    if not (packs.has(actor, pack, "view") or can_build_for(actor, pack.case)):
        raise Http404
    return pack


def evidence_pack_latest(*, obj) -> EvidencePack | None:
    """The newest pack of a case, for its panel (shown only to those who may build one)."""
    content_type = ContentType.objects.get_for_model(type(obj))
    return (
        EvidencePack.objects.filter(content_type=content_type, object_id=obj.pk)
        .select_related("content_type")
        .order_by("-created_at", "-id")
        .first()
    )
