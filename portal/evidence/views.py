"""Evidence pack pages: request a pack for a case, watch it build (htmx polling), download the ZIP.

Each view's first line fetches through the selectors: a case or pack the actor may not reach does
not exist for them (404), whatever the reason.
"""

from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from portal.core.files import stored_file_response

from . import selectors, services
from .models import EvidencePack
from .permissions import can_build_for


def panel_context(*, actor, case, pack: EvidencePack | None) -> dict:
    """What the panel shows: the case's button (for those who may build) and the pack's state."""
    may_build = case is not None and can_build_for(actor, case)
    return {
        "visible": may_build or pack is not None,
        "case": case if may_build else None,
        "content_type_id": pack.content_type_id if pack else _content_type_id(case),
        "pack": pack,
    }


def _content_type_id(case) -> int | None:
    return ContentType.objects.get_for_model(type(case)).pk if case is not None else None


@login_required
@require_POST
def pack_request(request, content_type_id, object_id):
    case = selectors.evidence_case_access(actor=request.user, content_type_id=content_type_id, object_id=object_id)
    pack = services.evidence_pack_request(actor=request.user, obj=case)
    # Read again: with eager tasks (demo, tests) the build has run at commit already.
    pack = EvidencePack.objects.select_related("content_type").get(pk=pack.pk)
    if request.htmx:
        return render(request, "evidence/partials/_panel.html", panel_context(actor=request.user, case=case, pack=pack))
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(back)
    return redirect("evidence:pack-detail", pack_id=pack.pk)


@login_required
@require_GET
def pack_detail(request, pack_id):
    """The pack's state: the panel alone for htmx polling, a page of its own otherwise."""
    pack = selectors.evidence_pack_access(actor=request.user, pack_id=pack_id)
    context = panel_context(actor=request.user, case=pack.case, pack=pack)
    if request.htmx:
        return render(request, "evidence/partials/_panel.html", context)
    return render(request, "evidence/pack_detail.html", context)


@login_required
@require_GET
def pack_download(request, pack_id):
    pack = selectors.evidence_pack_access(actor=request.user, pack_id=pack_id)
    if pack.state != EvidencePack.State.READY:
        raise Http404
    services.evidence_pack_download(actor=request.user, pack=pack)
    return stored_file_response(pack.file, filename=pack.download_name, content_type="application/zip")
