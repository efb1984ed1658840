"""Account security pages: the overview, authenticator enrolment, the login code step and recovery codes."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from . import two_factor
from .forms import SecondFactorVerifyForm, TotpCodeForm, TwoFactorDisableForm


def _next_url(request, default: str = "") -> str:
    """The `next` parameter if it points into this site, else the default (home)."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default or reverse("shell:home")


def _redirect_with_next(url_name: str, next_url: str):
    return redirect(f"{reverse(url_name)}?{urlencode({'next': next_url})}")


def _security_page(request, *, disable_form=None):
    return render(
        request,
        "accounts/security.html",
        {
            "status": two_factor.two_factor_status(user=request.user),
            "verified": two_factor.session_verified(request.user),
            "disable_form": disable_form or TwoFactorDisableForm(),
        },
    )


@login_required
def security(request):
    return _security_page(request)


@never_cache
@login_required
def two_factor_setup(request):
    user = request.user
    next_url = _next_url(request, default=reverse("accounts:security"))
    if two_factor.user_has_second_factor(user) and not two_factor.session_verified(user):
        # Adding an authenticator is as sensitive as using one: prove the current one first.
        return _redirect_with_next("accounts:2fa-verify", request.get_full_path())
    device = two_factor.totp_device_pending(user=user)
    if request.method == "POST":
        if device is None:
            messages.error(request, _("Your set-up has expired. Scan the new QR code and try again."))
            return _redirect_with_next("accounts:2fa-setup", next_url)
        form = TotpCodeForm(request.POST)
        if form.is_valid():
            try:
                check = two_factor.totp_device_confirm(user=user, device=device, token=form.cleaned_data["token"])
            except two_factor.SecondFactorError:
                return _redirect_with_next("accounts:2fa-setup", next_url)
            if check.ok:
                two_factor.second_factor_session_login(request, check.device)
                return render(
                    request,
                    "accounts/recovery_codes.html",
                    {"codes": check.recovery_codes, "next_url": next_url, "enrolled": True},
                )
            form.add_check_error(check)
    else:
        form = TotpCodeForm(initial={"next": next_url})
        device = device or two_factor.totp_device_start(user=user)
    return render(
        request,
        "accounts/two_factor_setup.html",
        {
            "form": form,
            "qr_svg": two_factor.totp_qr_svg(device),
            "secret": two_factor.totp_secret_display(device),
            "required": two_factor.second_factor_required(user),
        },
    )


@never_cache
@login_required
def two_factor_verify(request):
    user = request.user
    next_url = _next_url(request)
    if two_factor.session_verified(user):
        return redirect(next_url)
    if not two_factor.user_has_second_factor(user):
        if two_factor.second_factor_required(user):
            return _redirect_with_next("accounts:2fa-setup", next_url)
        return redirect(next_url)
    if request.method == "POST":
        form = SecondFactorVerifyForm(request.POST)
        if form.is_valid():
            check = two_factor.second_factor_verify(request=request, token=form.cleaned_data["token"])
            if check.ok:
                messages.success(request, _("You are signed in."))
                if check.method == "recovery_code":
                    remaining = two_factor.two_factor_status(user=user).recovery_codes_remaining
                    messages.warning(
                        request,
                        ngettext(
                            "You used a recovery code; %(count)d is left. Generate new ones on the security page.",
                            "You used a recovery code; %(count)d are left. Generate new ones on the security page.",
                            remaining,
                        )
                        % {"count": remaining},
                    )
                return redirect(next_url)
            form.add_check_error(check)
    else:
        form = SecondFactorVerifyForm(initial={"next": next_url})
    return render(request, "accounts/two_factor_verify.html", {"form": form})


@never_cache
@login_required
@require_POST
def recovery_codes_regenerate(request):
    if not two_factor.session_verified(request.user):
        return _redirect_with_next("accounts:2fa-verify", reverse("accounts:security"))
    try:
        codes = two_factor.recovery_codes_regenerate(user=request.user)
    except two_factor.SecondFactorError:
        messages.error(request, _("Set up an authenticator app before generating recovery codes."))
        return redirect("accounts:security")
    return render(
        request,
        "accounts/recovery_codes.html",
        {"codes": codes, "next_url": reverse("accounts:security"), "enrolled": False},
    )


@login_required
@require_POST
def two_factor_disable(request):
    if two_factor.second_factor_required(request.user):
        messages.error(request, _("Your role requires two-factor authentication, so it cannot be turned off."))
        return redirect("accounts:security")
    form = TwoFactorDisableForm(request.POST)
    if form.is_valid():
        try:
            check = two_factor.two_factor_disable(user=request.user, token=form.cleaned_data["token"])
        except two_factor.SecondFactorError:
            messages.info(request, _("Two-factor authentication is not enabled."))
            return redirect("accounts:security")
        if check.ok:
            messages.success(request, _("Two-factor authentication is now off."))
            return redirect("accounts:security")
        form.add_check_error(check)
    return _security_page(request, disable_form=form)
