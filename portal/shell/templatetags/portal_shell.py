"""The page shell's tags for base.html: fragments rendered once per set of inputs (portal/shell/page.py)."""

from django import template
from django.utils.safestring import mark_safe

from ..page import nav_html, static_fragment

register = template.Library()


@register.simple_tag
def shell_head():
    return static_fragment("shell/partials/_head.html")


@register.simple_tag
def shell_foot():
    return static_fragment("shell/partials/_foot.html")


@register.simple_tag(takes_context=True)
def shell_nav(context):
    if context.get("skeleton"):
        return context["nav_mark"]  # filled in per request by page_response
    # The page's own token (the csrf context processor's, evaluated once per rendering).
    return mark_safe(nav_html(context["request"], context, csrf_token=str(context["csrf_token"])))  # noqa: S308
