"""`{% evidence_panel obj %}`: the evidence pack's button, progress and download link for a case page.

Renders nothing for whoever may not build the case's evidence (its kind's rule), so a page shared by
staff and brokers includes it once and only staff see it.

    {% load evidence %}
    {% evidence_panel req %}
"""

from django import template

from ..permissions import can_build_for
from ..selectors import evidence_pack_latest
from ..views import panel_context

register = template.Library()


@register.inclusion_tag("evidence/partials/_panel.html", takes_context=True)
def evidence_panel(context, obj):
    request = context.get("request")
    actor = getattr(request, "user", None)
    if obj is None or not can_build_for(actor, obj):
        return {"visible": False}
    context = panel_context(actor=actor, case=obj, pack=evidence_pack_latest(obj=obj))
    context["next"] = request.get_full_path()
    return context
