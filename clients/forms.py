"""The profile's forms: they parse and present; the services decide what is valid."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class BootstrapMixin:
    """Bootstrap's classes on every widget, so templates can render fields as they are."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.HiddenInput):
                continue
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()


class ContactForm(BootstrapMixin, forms.Form):
    # One page holds several forms with a phone field: ids of their own, the same field names.
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "contact_%s")
        super().__init__(*args, **kwargs)

    street = forms.CharField(label=_("Street and number"), required=False, max_length=400)
    postcode = forms.CharField(label=_("Postcode"), required=False, max_length=40)
    city = forms.CharField(label=_("City"), required=False, max_length=200)
    country = forms.CharField(
        label=_("Country"),
        required=False,
        max_length=100,
        help_text=_("Two-letter code, e.g. DE"),
        widget=forms.TextInput(attrs={"size": 3, "autocomplete": "country"}),
    )
    email = forms.CharField(
        label=_("Contact e-mail"),
        required=False,
        max_length=400,
        help_text=_("Where we write to you about your portfolio; your login stays as it is."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("Contact phone"),
        required=False,
        max_length=40,
        help_text=_("International format, e.g. +4930123456"),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )

    def add_service_errors(self, error) -> None:
        """Put a service's ValidationError on the fields it names (the rest above the form)."""
        if hasattr(error, "error_dict"):
            for name, errors in error.error_dict.items():
                self.add_error(name if name in self.fields else None, errors)
        else:
            self.add_error(None, error)


class MobileForm(BootstrapMixin, forms.Form):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "mobile_%s")
        super().__init__(*args, **kwargs)

    phone = forms.CharField(
        label=_("New mobile number"),
        max_length=40,
        help_text=_("International format, e.g. +4915112345678"),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    password = forms.CharField(
        label=_("Your password"),
        help_text=_("To make sure it is you who changes the number codes are sent to."),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class PhoneCodeForm(BootstrapMixin, forms.Form):
    code = forms.CharField(
        label=_("Code from the SMS"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": r"[0-9 ]*", "size": 8}
        ),
    )


class LanguageForm(BootstrapMixin, forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
