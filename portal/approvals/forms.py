from django import forms
from django.utils.translation import gettext_lazy as _

from .services import REASON_MAX_LENGTH


class ApproveForm(forms.Form):
    reason = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
    )


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the rejection"),
        max_length=REASON_MAX_LENGTH,
        error_messages={"required": _("Say why you reject it.")},
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
        help_text=_("The person who asked sees it, and it stays in the case's history."),
    )
