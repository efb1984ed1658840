"""The page shell (head links, navigation bar, footer) rendered once per set of inputs, in this process.

Every page wears the same shell; rendering it through the template engine was most of what a page
whose body comes from the cache still cost. The shell depends only on what is in its key (the
user's id, e-mail, roles and role label, whether the sign-in is complete, the language, the page's
view name, the unread count, the dev outbox flag), so a rendered copy is reused as it is — nothing
to invalidate, a changed input is another key. The two things that differ on every request, the
CSRF token and the current address (for the language switch to come back to), are filled in
afterwards.
"""

import functools
import secrets

from django import template
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

register = template.Library()

# Marks for what is filled in per request: random, so that no user data can ever contain them.
_CSRF_MARK = f"csrf-{secrets.token_hex(12)}"
_NEXT_MARK = f"next-{secrets.token_hex(12)}"


@register.simple_tag
def shell_head():
    return _static_fragment("shell/partials/_head.html", get_language())


@register.simple_tag
def shell_foot():
    return _static_fragment("shell/partials/_foot.html", get_language())


@register.simple_tag(takes_context=True)
def shell_nav(context):
    request = context["request"]
    user = request.user
    signed_in = context.get("signed_in", False)
    match = request.resolver_match
    key = (
        get_language(),
        match.view_name if match else "",
        bool(context.get("dev_outbox_enabled")),
        signed_in,
        user.is_authenticated,
    )
    if signed_in:
        key += (user.pk, user.email, str(user.primary_role_label), context.get("notification_unread_count") or 0)
        key += (tuple((str(item["label"]), item["url"], item["url_name"]) for item in context.get("nav_items") or ()),)
    html = _nav_fragment(key)
    html = html.replace(_CSRF_MARK, get_token(request)).replace(_NEXT_MARK, escape(request.get_full_path()))
    return mark_safe(html)  # noqa: S308 (our own template's output; the two values filled in are escaped or safe)


@functools.lru_cache(maxsize=4096)
def _nav_fragment(key) -> str:
    _language, view_name, dev_outbox_enabled, signed_in, authenticated, *account = key
    user_fields = {}
    if signed_in:
        _user_id, email, role_label, unread, items = account
        user_fields = {"email": email, "primary_role_label": role_label}
        nav_items = [{"label": label, "url": url, "url_name": url_name} for label, url, url_name in items]
    else:
        unread, nav_items = 0, ()
    return render_to_string(
        "shell/partials/_nav.html",
        {
            "user": _ShellUser(authenticated=authenticated, **user_fields),
            "signed_in": signed_in,
            "nav_items": nav_items,
            "notification_unread_count": unread,
            "dev_outbox_enabled": dev_outbox_enabled,
            "active_view": view_name,
            "csrf_mark": _CSRF_MARK,
            "next_mark": _NEXT_MARK,
        },
    )


@functools.lru_cache(maxsize=16)
def _static_fragment(template_name: str, language: str) -> str:
    return mark_safe(render_to_string(template_name))  # noqa: S308 (a template without any user data)


class _ShellUser:
    """What the navigation bar reads of the user: nothing beyond what its key holds."""

    def __init__(self, *, authenticated: bool, email: str = "", primary_role_label: str = ""):
        self.is_authenticated = authenticated
        self.email = email
        self.primary_role_label = primary_role_label
