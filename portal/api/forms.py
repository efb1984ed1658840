from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import scopes

NO_ACCESS = ""
GRACE_CHOICES = [
    ("0", _("Stop the old key now")),
    ("3600", _("Keep the old key for 1 hour")),
    ("86400", _("Keep the old key for 24 hours")),
    ("604800", _("Keep the old key for 7 days")),
]


class ApiKeyCreateForm(forms.Form):
    """Name, one access level per resource group, an optional last day and optional networks."""

    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("e.g. the system that will use the key"))
    expires_on = forms.DateField(
        label=_("Valid until (last day)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty: valid until revoked."),
    )
    allowed_ips = forms.CharField(
        label=_("Allowed IP addresses"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "203.0.113.7\n198.51.100.0/24"}),
        help_text=_("One address or network per line; empty: any address."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.groups = scopes.scope_groups()
        choices = [(NO_ACCESS, _("No access")), *scopes.ACCESS_CHOICES]
        for group in self.groups:
            self.fields[f"scope_{group.key}"] = forms.ChoiceField(
                label=group.label,
                choices=choices,
                required=False,
                initial=NO_ACCESS,
                help_text=group.description,
                widget=forms.RadioSelect,
            )

    def scope_fields(self):
        return [self[f"scope_{group.key}"] for group in self.groups]

    def clean_expires_on(self):
        day = self.cleaned_data.get("expires_on")
        if day is not None and day < timezone.localdate():
            raise forms.ValidationError(_("The last day must not lie in the past."))
        return day

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        day = data.get("expires_on")
        expires_at = None
        if day is not None:
            # Valid through the whole last day, in the portal's time zone.
            expires_at = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
        return {
            "name": data["name"],
            "scopes": {g.key: data[f"scope_{g.key}"] for g in self.groups if data.get(f"scope_{g.key}")},
            "expires_at": expires_at,
            "allowed_ips": data.get("allowed_ips", ""),
        }


class ApiKeyRotateForm(forms.Form):
    grace = forms.TypedChoiceField(
        label=_("Old key"),
        choices=GRACE_CHOICES,
        coerce=lambda value: timedelta(seconds=int(value)),
        initial="0",
    )
