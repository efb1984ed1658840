"""The client zone's template tags."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def zone_panel(context, panel):
    """A home panel's template with the panel's context, inside the page's own (the context processors run once)."""
    with context.push(panel.context):
        return context.template.engine.get_template(panel.template).render(context)
