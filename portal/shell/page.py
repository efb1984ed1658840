"""The page shell, rendered once per set of inputs and reused, and pages assembled around a body.

Every page wears the same shell (head links, navigation bar, footer). It depends only on what its
key holds — the language, the page's view, the user's id, e-mail, role label, menu, unread count
and work-inbox count, whether the sign-in is complete — so a rendered copy is kept in this process
and reused as it is: nothing to invalidate, a changed input is another key. What differs on every
request (the CSRF token, the current address for the language switch) is filled in afterwards.

Pages whose body is cached HTML (the broker workspace) go one step further with `page_response`:
their template is rendered once per language with marks where the request's parts go (navigation,
CSRF token, messages, title, body), and each request only fills the marks in — no template engine
on the request path.
"""

import functools
import secrets

from django.contrib.messages import get_messages
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.urls import get_urlconf
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from portal.accounts.roles import Role
from portal.core import navigation

from .context_processors import portal as shell_context

# Marks for what is filled in per request: random, so that no user data can ever contain them.
_TOKEN = secrets.token_hex(12)
CSRF_MARK = f"pz-csrf-{_TOKEN}"
NEXT_MARK = f"pz-next-{_TOKEN}"
NAV_MARK = f"pz-nav-{_TOKEN}"
MESSAGES_MARK = f"pz-messages-{_TOKEN}"
TITLE_MARK = f"pz-title-{_TOKEN}"
BODY_MARK = f"pz-body-{_TOKEN}"


def nav_html(request, context, *, csrf_token: str) -> str:
    """The navigation bar for this request (context: the shell's context processor's values).

    `csrf_token` is the request's masked token, the one the rest of the page carries: Django masks
    a fresh one on every call, which costs more than the whole navigation bar."""
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
        # The menu and the role's label follow from these (rendered once per key, below).
        key += (user.pk, user.email, user.roles, user.is_staff, user.primary_role, get_urlconf())
        key += (context.get("notification_unread_count") or 0, context.get("inbox_count") or 0)
    html = _nav_fragment(key)
    # Our own template's output; the two values filled in are a token and an escaped address.
    return html.replace(CSRF_MARK, csrf_token).replace(NEXT_MARK, escape(request.get_full_path()))


def static_fragment(template_name: str) -> str:
    return _static_fragment(template_name, get_language())


def page_response(request, template_name: str, *, body: str, title: str, status: int = 200) -> HttpResponse:
    """`template_name` (a page extending base.html that shows `{{ body }}` and `{{ page_title }}`) with
    this body and title, assembled from its once-rendered skeleton."""
    html = _skeleton(template_name, get_language())
    messages = list(get_messages(request))
    token = get_token(request)
    parts = (
        (TITLE_MARK, escape(title)),
        (CSRF_MARK, token),
        (NAV_MARK, nav_html(request, shell_context(request), csrf_token=token)),
        (MESSAGES_MARK, render_to_string("shell/partials/_messages.html", {"messages": messages}) if messages else ""),
        (BODY_MARK, body),  # last: nothing is looked for inside the body
    )
    for mark, value in parts:
        html = html.replace(mark, value)
    return HttpResponse(html, status=status)


@functools.lru_cache(maxsize=64)
def _skeleton(template_name: str, language: str) -> str:
    return render_to_string(
        template_name,
        {
            "skeleton": True,
            "body": mark_safe(BODY_MARK),  # noqa: S308 (a mark of ours)
            "page_title": mark_safe(TITLE_MARK),  # noqa: S308
            "csrf_token": CSRF_MARK,
            "nav_mark": mark_safe(NAV_MARK),  # noqa: S308
            "messages_mark": mark_safe(MESSAGES_MARK),  # noqa: S308
        },
    )


@functools.lru_cache(maxsize=4096)
def _nav_fragment(key) -> str:
    _language, view_name, dev_outbox_enabled, signed_in, authenticated, *account = key
    user_fields = {}
    nav_items = []
    unread = waiting = 0
    if signed_in:
        _user_id, email, roles, is_staff, primary_role, _urlconf, unread, waiting = account
        user_fields = {"email": email, "primary_role_label": Role(primary_role).label if primary_role else ""}
        nav_items = navigation.items_for_roles(roles, is_staff=is_staff, primary_role=primary_role)
    return render_to_string(
        "shell/partials/_nav.html",
        {
            "user": _ShellUser(authenticated=authenticated, **user_fields),
            "signed_in": signed_in,
            "nav_items": nav_items,
            "notification_unread_count": unread,
            "inbox_count": waiting,
            "dev_outbox_enabled": dev_outbox_enabled,
            "active_view": view_name,
            "csrf_mark": CSRF_MARK,
            "next_mark": NEXT_MARK,
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
