"""The client's profile: contact data, the mobile number for signing codes, language, notification
settings, security, active sessions and "download my data".

Every page starts with `zone_client`, so only an end client reaches it, and only their own data;
every write is a service (here, or in the kernel for the account). The mobile number and the data
export panels answer htmx with their partial, and a plain form post with a redirect.
"""

from allauth.core import ratelimit
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from portal.accounts.phone_verification import phone_code_check, phone_code_send, phone_state, user_phone_change
from portal.accounts.two_factor import two_factor_status
from portal.accounts.user_sessions import user_session_list, user_sessions_end_others
from portal.core.files import stored_file_response

from . import selectors, services
from .forms import ContactForm, LanguageForm, MobileForm, PhoneCodeForm
from .models import Client
from .zone import zone_client


def _profile_url(anchor: str = "") -> str:
    return reverse("clients:profile") + (f"#{anchor}" if anchor else "")


@never_cache
@login_required
@require_GET
def profile(request):
    client = zone_client(request.user)
    return _profile_page(request, client)


def _profile_page(request, client: Client, *, contact_form=None, status: int = 200):
    user = request.user
    return render(
        request,
        "clients/profile.html",
        {
            "client": client,
            "contact_form": contact_form
            or ContactForm(initial={name: getattr(client, name) for name in services.CONTACT_FIELDS}),
            **_mobile_context(request),
            "language_form": LanguageForm(initial={"language": request.LANGUAGE_CODE}),
            "two_factor": two_factor_status(user=user),
            "sessions": user_session_list(user=user, current_key=request.session.session_key),
            "export": selectors.data_export_latest(actor=user),
        },
        status=status,
    )


@login_required
@require_POST
def contact_update(request):
    client = zone_client(request.user)
    form = ContactForm(request.POST)
    if form.is_valid():
        try:
            changes = services.client_contact_update(actor=request.user, values=form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Your contact data was saved.") if changes else _("Nothing was changed."))
            return redirect(_profile_url("contact"))
    return _profile_page(request, client, contact_form=form, status=400)


# --- the mobile number -----------------------------------------------------------------------------


def _mobile_context(request, *, form=None, code_form=None, error: str = "", notice: str = "") -> dict:
    return {
        "phone": phone_state(user=request.user),
        "mobile_form": form or MobileForm(),
        "code_form": code_form or PhoneCodeForm(),
        "mobile_error": error,
        "mobile_notice": notice,
    }


def _mobile_answer(request, *, form=None, error: str = "", notice: str = ""):
    failed = bool(error) or (form is not None and form.errors)
    if request.htmx:
        context = _mobile_context(request, form=form, error=error, notice=notice)
        return render(request, "clients/partials/_mobile_panel.html", context, status=400 if failed else 200)
    if form is not None and form.errors:
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
    if error:
        messages.error(request, error)
    elif notice:
        messages.success(request, notice)
    return redirect(_profile_url("mobile"))


@login_required
@require_POST
def mobile_change(request):
    """A new mobile number (the password proves it is the client), then a code to verify it."""
    zone_client(request.user)
    form = MobileForm(request.POST)
    if not form.is_valid():
        return _mobile_answer(request, form=form)
    if not ratelimit.consume(request, action="reauthenticate", user=request.user):
        return _mobile_answer(request, form=form, error=_("Too many attempts. Please wait a minute and try again."))
    if not request.user.check_password(form.cleaned_data["password"]):
        form.add_error("password", _("This is not your password."))
        return _mobile_answer(request, form=form)
    try:
        changed = user_phone_change(user=request.user, phone=form.cleaned_data["phone"])
    except ValidationError as exc:
        form.add_error("phone", exc)
        return _mobile_answer(request, form=form)
    if not changed and request.user.phone_verified_at is not None:
        return _mobile_answer(request, notice=_("This is your verified number already."))
    try:
        phone_code_send(user=request.user)
    except ValidationError as exc:
        return _mobile_answer(request, error=" ".join(exc.messages))
    return _mobile_answer(request, notice=_("Your number is saved. We are sending a code to it by SMS."))


@login_required
@require_POST
def mobile_code_send(request):
    zone_client(request.user)
    try:
        phone_code_send(user=request.user)
    except ValidationError as exc:
        return _mobile_answer(request, error=" ".join(exc.messages))
    return _mobile_answer(request, notice=_("We are sending you a code by SMS."))


@login_required
@require_POST
def mobile_verify(request):
    zone_client(request.user)
    form = PhoneCodeForm(request.POST)
    if not form.is_valid():
        return _mobile_answer(request, error=_("Enter the 6-digit code from the SMS."))
    try:
        phone_code_check(user=request.user, code=form.cleaned_data["code"])
    except ValidationError as exc:
        return _mobile_answer(request, error=" ".join(exc.messages))
    return _mobile_answer(request, notice=_("Your mobile number is verified. Signing codes will be sent to it."))


@never_cache
@login_required
@require_GET
def mobile_status(request):
    """The code SMS's delivery state (htmx polls it while the SMS is on its way)."""
    zone_client(request.user)
    return render(request, "clients/partials/_mobile_status.html", {"phone": phone_state(user=request.user)})


# --- sessions --------------------------------------------------------------------------------------


@login_required
@require_POST
def sessions_end_others(request):
    zone_client(request.user)
    ended = user_sessions_end_others(user=request.user, current_key=request.session.session_key)
    messages.success(
        request,
        ngettext(
            "You were signed out of %(count)d other session.", "You were signed out of %(count)d other sessions.", ended
        )
        % {"count": ended},
    )
    return redirect(_profile_url("sessions"))


# --- download my data ------------------------------------------------------------------------------


def _export_answer(request, *, error: str = "", notice: str = ""):
    if request.htmx:
        context = {"export": selectors.data_export_latest(actor=request.user), "export_error": error}
        return render(request, "clients/partials/_export_panel.html", context, status=400 if error else 200)
    if error:
        messages.error(request, error)
    elif notice:
        messages.success(request, notice)
    return redirect(_profile_url("my-data"))


@login_required
@require_POST
def export_request(request):
    zone_client(request.user)
    try:
        services.data_export_request(actor=request.user)
    except ValidationError as exc:
        return _export_answer(request, error=" ".join(exc.messages))
    return _export_answer(request, notice=_("We are preparing your data. We will tell you when it is ready."))


@never_cache
@login_required
@require_GET
def export_status(request):
    zone_client(request.user)
    return render(
        request, "clients/partials/_export_panel.html", {"export": selectors.data_export_latest(actor=request.user)}
    )


@never_cache
@login_required
@require_GET
def export_download(request, export_id):
    export = selectors.access_data_export(actor=request.user, export_id=export_id)
    if not export.is_downloadable():
        raise Http404
    response = stored_file_response(export.file, filename=export.download_name, content_type="application/zip")
    services.data_export_downloaded(actor=request.user, export=export)
    return response
