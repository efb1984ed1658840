"""Admin actions that decide through the services, shared by the approvals admin and the apps' admins.

A rejection needs a reason, so the reject action first shows a small page asking for it (Django's
intermediate-page pattern); the selected rows travel along as hidden fields.
"""

from django.contrib import messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal.accounts.two_factor import session_verified

from .forms import RejectForm


def _error_text(error) -> str:
    return " ".join(getattr(error, "messages", None) or [str(error)])


def run_for_each(modeladmin, request, queryset, decide, done_message) -> int:
    """Call `decide(obj, second_factor_verified)` per row; refusals are reported per row, never hidden."""
    done = 0
    verified = session_verified(request.user)
    for obj in queryset:
        try:
            decide(obj, verified)
        except (ValidationError, PermissionDenied, LookupError) as error:
            modeladmin.message_user(request, f"{obj}: {_error_text(error)}", messages.ERROR)
            continue
        done += 1
    if done:
        modeladmin.message_user(request, done_message(done), messages.SUCCESS)
    return done


def reject_with_reason(modeladmin, request, queryset, *, action: str, reject):
    """The reject action: ask for the reason, then call `reject(obj, reason, second_factor_verified)` per row."""
    form = RejectForm(request.POST if "apply" in request.POST else None)
    if "apply" in request.POST and form.is_valid():
        run_for_each(
            modeladmin,
            request,
            queryset,
            lambda obj, verified: reject(obj, form.cleaned_data["reason"], verified),
            lambda n: ngettext("%d rejected.", "%d rejected.", n) % n,
        )
        return None
    return TemplateResponse(
        request,
        "admin/approvals/reject_reason.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": _("Why do you reject these?"),
            "opts": modeladmin.model._meta,
            "objects": list(queryset),
            "form": form,
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        },
        status=400 if form.is_bound else 200,
    )
