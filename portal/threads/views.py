"""The thread endpoints the panel talks to: read (the panel, new messages, earlier ones), post, download.

Every view starts from `access_thread_object`: the object named by content type and id, if the
actor may read its thread by the owning app's rule, else 404. Fragments are rendered without the
page's context processors: they are small and polled every ten seconds.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from portal.core.files import stored_file_response

from .panel import thread_panel_context, thread_urls
from .selectors import MESSAGES_SHOWN, access_thread_object, messages_of, thread_attachment_access, thread_of
from .services import message_post, thread_read_advance

INTERNAL_VALUES = ("1", "on", "true")


@login_required
@require_http_methods(["GET", "POST"])
def thread_messages_view(request, content_type_id, object_id):
    """GET: the panel; `?after=<id>` the messages since (the poll); `?before=<id>` earlier ones. POST: write."""
    access = access_thread_object(actor=request.user, content_type_id=content_type_id, object_id=object_id)
    if request.method == "POST":
        return _message_post(request, access)
    try:
        after, before = _message_id(request.GET.get("after")), _message_id(request.GET.get("before"))
    except ValueError:
        return HttpResponseBadRequest(_("Messages are asked for by the number of a message, e.g. ?after=12."))
    if after is None and before is None:
        return _panel_response(request, access.obj)
    thread = thread_of(access.obj)
    context = {**thread_urls(access), "viewer": request.user, "staff_side": access.staff_side}
    if after is not None:
        rows = messages_of(access, thread, after_id=after)
        if rows:
            thread_read_advance(thread=thread, user=request.user, message_id=rows[-1].pk)
        context.update(messages=rows, last_id=rows[-1].pk if rows else after, unread_after=after)
        return HttpResponse(render_to_string("threads/partials/_poll_answer.html", context))
    rows = messages_of(access, thread, before_id=before, limit=MESSAGES_SHOWN + 1)
    has_earlier = len(rows) > MESSAGES_SHOWN
    rows = rows[-MESSAGES_SHOWN:]
    context.update(messages=rows, has_earlier=has_earlier, first_id=rows[0].pk if rows else before, unread_after=None)
    return HttpResponse(render_to_string("threads/partials/_earlier_answer.html", context))


@login_required
@require_GET
def attachment_download(request, content_type_id, object_id, attachment_id):
    attachment = thread_attachment_access(
        actor=request.user, content_type_id=content_type_id, object_id=object_id, attachment_id=attachment_id
    )
    return stored_file_response(attachment.file, filename=attachment.name, content_type=attachment.content_type)


def _message_post(request, access):
    body = request.POST.get("body", "")
    internal = request.POST.get("internal", "") in INTERNAL_VALUES
    try:
        message_post(
            actor=request.user, obj=access.obj, body=body, internal=internal, files=request.FILES.getlist("files")
        )
    except ValidationError as exc:
        errors = exc.message_dict
        if request.htmx:
            return _panel_response(request, access.obj, status=422, body=body, internal=internal, errors=errors)
        for field_errors in errors.values():
            for error in field_errors:
                messages.error(request, error)
        return redirect(access.kind.url(access.obj, request.user))
    if request.htmx:
        return _panel_response(request, access.obj)
    messages.success(request, _("Your message was sent."))
    return redirect(access.kind.url(access.obj, request.user))


def _panel_response(request, obj, *, status: int = 200, **kwargs) -> HttpResponse:
    """The panel's inside (messages and form): what a post or a plain GET swaps in."""
    context = thread_panel_context(request, obj, **kwargs)
    return HttpResponse(render_to_string("threads/partials/_inner.html", context), status=status)


def _message_id(value) -> int | None:
    if value in (None, ""):
        return None
    number = int(value)
    if number < 0:
        raise ValueError(value)
    return number
