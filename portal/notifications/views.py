from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from portal.core.lists import page_of

from . import selectors, services
from .attachments import AttachmentRefused, attachment_render
from .forms import OutboxFilterForm, PreferencesForm
from .models import Notification, OutboxAttachment
from .texts import user_language

PAGE_SIZE = 20


@login_required
@require_GET
def notification_list(request):
    unread_only = request.GET.get("unread") == "1"
    notifications = selectors.notification_list(user=request.user, unread_only=unread_only)
    return render(
        request,
        "notifications/list.html",
        {**page_of(request, notifications, per_page=PAGE_SIZE), "unread_only": unread_only},
    )


UNREAD_MENU_SIZE = 5


@login_required
@require_GET
def notification_unread_menu(request):
    """The bell's dropdown: the latest unread notifications, in the language of the page that opens it."""
    unread = selectors.notification_list(user=request.user, unread_only=True)[:UNREAD_MENU_SIZE]
    return render(request, "notifications/partials/_unread_menu.html", {"unread": unread})


@login_required
@require_POST
def notification_mark_read(request, notification_id: int):
    try:
        notification = services.notification_mark_read(user=request.user, notification_id=notification_id)
    except Notification.DoesNotExist:
        raise Http404 from None
    if request.htmx:
        return render(request, "notifications/partials/_notification.html", {"notification": notification})
    return redirect("notifications:list")


@login_required
@require_POST
def notification_mark_all_read(request):
    count = services.notification_mark_all_read(user=request.user)
    messages.success(
        request,
        ngettext("%(count)d notification marked as read.", "%(count)d notifications marked as read.", count)
        % {"count": count},
    )
    return redirect("notifications:list")


@login_required
def preferences(request):
    rows = selectors.notification_preference_rows(user=request.user)
    form = PreferencesForm(request.POST or None, rows=rows)
    if request.method == "POST" and form.is_valid():
        try:
            services.preferences_set(user=request.user, choices=form.choices())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Your notification settings were saved."))
            return redirect("notifications:preferences")
    status = 400 if form.errors else 200
    return render(
        request,
        "notifications/preferences.html",
        {"form": form, "table": form.table(), "has_phone": bool(request.user.phone)},
        status=status,
    )


def dev_outbox_enabled() -> bool:
    """The dev outbox exists only in development: with DEBUG off it is gone whatever the flag says."""
    return settings.DEBUG and settings.PORTAL_DEV_OUTBOX


@never_cache
@require_GET
def dev_outbox(request):
    """The e-mails and SMS the portal wrote, for demos without SMTP or Twilio (never in production).

    Each user sees the messages addressed to them (the demo client reads their code here);
    staff see all of them.
    """
    if not dev_outbox_enabled():
        raise Http404
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    form = OutboxFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    outbox = selectors.outbox_list(
        user=request.user, channel=filters.get("channel", ""), status=filters.get("status", ""), q=filters.get("q", "")
    )
    return render(
        request, "notifications/dev_outbox.html", {**page_of(request, outbox, per_page=PAGE_SIZE), "form": form}
    )


@never_cache
@require_GET
def dev_outbox_attachment(request, message_id: int, attachment_id: int):
    """An attachment of a dev outbox message, made now, for whoever may read that message (else 404)."""
    if not dev_outbox_enabled():
        raise Http404
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    try:
        attachment = selectors.outbox_attachment_get(
            user=request.user, message_id=message_id, attachment_id=attachment_id
        )
    except OutboxAttachment.DoesNotExist:
        raise Http404 from None
    # In the recipient's language, as the mail has it, whoever looks.
    recipient = attachment.message.user
    language = user_language(recipient) if recipient else settings.LANGUAGE_CODE
    try:
        data = attachment_render(attachment, language=language)
    except AttachmentRefused:
        raise Http404 from None
    response = HttpResponse(data, content_type=attachment.content_type)
    response["Content-Disposition"] = f'attachment; filename="{attachment.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
