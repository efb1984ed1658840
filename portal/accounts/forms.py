from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .two_factor import CodeCheck, looks_like_totp, recovery_code_normalise


def code_check_error(check: CodeCheck) -> str:
    """What to tell the user when a code was not accepted."""
    if check.throttled:
        return ngettext(
            "Too many attempts. Wait %(seconds)d second, then try again.",
            "Too many attempts. Wait %(seconds)d seconds, then try again.",
            check.wait_seconds,
        ) % {"seconds": check.wait_seconds}
    if check.method == "recovery_code":
        return str(_("This recovery code is not valid or has already been used."))
    return str(_("This code is not valid. Enter the current 6-digit code from your authenticator app."))


class _CodeForm(forms.Form):
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def add_check_error(self, check: CodeCheck) -> None:
        self.add_error("token", code_check_error(check))


class TotpCodeForm(_CodeForm):
    """A 6-digit code from the authenticator app (enrolment and turning 2FA off)."""

    token = forms.CharField(
        label=_("Code from the app"),
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "class": "form-control form-control-lg font-monospace",
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
            }
        ),
    )

    def clean_token(self):
        token = "".join(self.cleaned_data["token"].split())
        if not looks_like_totp(token):
            raise forms.ValidationError(_("Enter the 6 digits shown in your authenticator app."))
        return token


class SecondFactorVerifyForm(_CodeForm):
    """At login: a code from the app or one of the recovery codes."""

    token = forms.CharField(
        label=_("Code"),
        max_length=32,
        help_text=_("The 6-digit code from your authenticator app, or one of your recovery codes."),
        widget=forms.TextInput(
            attrs={
                "class": "form-control form-control-lg font-monospace",
                "autocomplete": "one-time-code",
                "autofocus": True,
                "autocapitalize": "off",
                "spellcheck": "false",
            }
        ),
    )

    def clean_token(self):
        token = "".join(self.cleaned_data["token"].split())
        if looks_like_totp(token):
            return token
        normalised = recovery_code_normalise(token)
        if len(normalised) != 10 or not normalised.isalnum():
            raise forms.ValidationError(_("Enter a 6-digit code or a recovery code such as abcde-23456."))
        return normalised


class TwoFactorDisableForm(TotpCodeForm):
    """Turning 2FA off: a current code, on the security page where nothing should grab focus."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "disable_%s")
        super().__init__(*args, **kwargs)
        self.fields["token"].widget.attrs.pop("autofocus", None)
