from django import template

from ..panel import thread_panel_context

register = template.Library()


@register.inclusion_tag("threads/partials/_panel.html", takes_context=True)
def thread_panel(context, obj, title=""):
    """`{% thread_panel obj %}` (or `title="…"`): the object's conversation for the signed-in viewer;
    nothing when they may not read it."""
    shown = thread_panel_context(context["request"], obj, title=title)
    return shown if shown is not None else {"hidden": True}
