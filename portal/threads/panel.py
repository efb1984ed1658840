"""The thread panel pages include: `{% thread_panel obj %}` (templatetags/threads.py), or
`thread_panel_html(request, obj)` for a page assembled from once-rendered parts.

It shows the newest messages the viewer may see, a form to write (with the internal-note box for
the staff side) and polls for new messages every ten seconds. Showing the panel marks what it shows
as read.
"""

from django.conf import settings
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.urls import reverse

from .selectors import (
    MESSAGES_SHOWN,
    ThreadAccess,
    messages_of,
    thread_access,
    thread_last_read_id,
    thread_of,
)
from .services import thread_read_advance


def thread_urls(access: ThreadAccess) -> dict:
    args = [access.content_type_id, access.obj.pk]
    return {
        "messages_url": reverse("threads:messages", args=args),
        "key": f"{args[0]}-{args[1]}",
        "content_type_id": args[0],
        "object_id": args[1],
    }


def thread_panel_context(request, obj, *, title: str = "", body: str = "", internal=False, errors=None) -> dict | None:
    """What the panel shows this viewer; None when they may not read the thread (the panel is left out)."""
    access = thread_access(actor=request.user, obj=obj)
    if not access.read:
        return None
    thread = thread_of(obj)
    rows = messages_of(access, thread, limit=MESSAGES_SHOWN + 1)
    has_earlier = len(rows) > MESSAGES_SHOWN
    rows = rows[-MESSAGES_SHOWN:]
    last_read = thread_last_read_id(actor=request.user, thread=thread)
    if rows:
        thread_read_advance(thread=thread, user=request.user, message_id=rows[-1].pk, last_read=last_read)
    return {
        **thread_urls(access),
        "title": title,
        "messages": rows,
        "has_earlier": has_earlier,
        "last_id": rows[-1].pk if rows else 0,
        "first_id": rows[0].pk if rows else 0,
        "unread_after": last_read,
        "viewer": request.user,
        "can_write": access.write,
        "staff_side": access.staff_side,
        "body": body,
        "internal": internal,
        "errors": errors or {},
        "max_chars": settings.THREADS_MAX_BODY_CHARS,
        "max_files": settings.THREADS_MAX_ATTACHMENTS,
        "max_bytes": settings.THREADS_MAX_ATTACHMENT_BYTES,
        "csrf_token": get_token(request),
    }


def thread_panel_html(request, obj, *, title: str = "", **kwargs) -> str:
    context = thread_panel_context(request, obj, title=title, **kwargs)
    if context is None:
        return ""
    return render_to_string("threads/partials/_panel.html", context)
