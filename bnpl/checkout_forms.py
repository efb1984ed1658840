"""The hosted checkout's forms: they check the shape of the input; the services check the rest."""

from django import forms
from django.utils.translation import gettext_lazy as _


class RegisterForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"), disabled=True, required=False)
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    phone = forms.CharField(
        label=_("Mobile phone"), max_length=30, help_text=_("For the SMS code that accepts the agreement.")
    )
    date_of_birth = forms.DateField(label=_("Date of birth"), widget=forms.DateInput(attrs={"type": "date"}))
    region = forms.CharField(label=_("Country or region"), max_length=10, help_text=_("ISO code, e.g. DE or DE-BY."))
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, strip=False)


class OptionForm(forms.Form):
    option_key = forms.CharField(label=_("Payment option"), max_length=32)


class MandateForm(forms.Form):
    account_holder = forms.CharField(label=_("Account holder"), max_length=140)
    iban = forms.CharField(label=_("IBAN"), max_length=50)


class PhoneForm(forms.Form):
    phone = forms.CharField(label=_("Mobile phone"), max_length=30)


class PhoneCodeForm(forms.Form):
    code = forms.CharField(label=_("Code to verify your phone"), max_length=12)


class AcceptForm(forms.Form):
    option_key = forms.CharField(max_length=32, widget=forms.HiddenInput)
    content_hash = forms.CharField(max_length=64, widget=forms.HiddenInput)
    code = forms.CharField(label=_("Code from the SMS"), max_length=12, required=False)
