"""Forms parse and present; the services decide what is valid content (one rule for pages and API)."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from . import addressbook
from .models import SignatureRequest
from .validators import CURRENCIES

Kind = SignatureRequest.Kind


class BootstrapMixin:
    """Bootstrap's classes on every widget, so templates can render fields as they are."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.style_widgets()

    def style_widgets(self):
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.HiddenInput | forms.RadioSelect):
                continue
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "application/pdf,image/png,image/jpeg"}))
        kwargs.setdefault("allow_empty_file", True)  # the upload check refuses it, naming the file
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class SignatureRequestForm(BootstrapMixin, forms.Form):
    """One form for the three kinds; the fields a kind does not use are hidden and ignored."""

    recipient = forms.ChoiceField(label=_("Client"))
    title = forms.CharField(
        label=_("Title"),
        max_length=200,
        required=False,
        help_text=_(
            "What the client signs, in a few words. Left empty for a transfer or subscription, it is written for you."
        ),
    )
    product_name = forms.CharField(label=_("Product"), max_length=200, required=False)
    amount = forms.DecimalField(
        label=_("Amount"), max_digits=20, decimal_places=2, min_value=Decimal("0.01"), required=False
    )
    currency = forms.ChoiceField(
        label=_("Currency"), choices=[(c, c) for c in CURRENCIES], initial="EUR", required=False
    )
    portfolio_reference = forms.ChoiceField(label=_("Portfolio"), required=False)
    payee_name = forms.CharField(label=_("Payee"), max_length=140, required=False)
    payee_iban = forms.CharField(label=_("Payee's IBAN"), max_length=42, required=False)
    payment_reference = forms.CharField(label=_("Payment reference"), max_length=140, required=False)
    message = forms.CharField(
        label=_("Text for the client"),
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        help_text=_("Explain what you ask for. Required for a document request."),
    )
    attachments = MultipleFileField(
        label=_("Attachments"),
        required=False,
        help_text=_("PDF, PNG or JPEG, checked by their content."),
    )

    FIELDS_BY_KIND = {
        Kind.FUND_TRANSFER: [
            "recipient", "title", "amount", "currency", "portfolio_reference", "payee_name", "payee_iban",
            "payment_reference", "message", "attachments",
        ],
        Kind.PRODUCT_SUBSCRIPTION: [
            "recipient", "title", "product_name", "amount", "currency", "portfolio_reference", "message", "attachments",
        ],
        Kind.DOCUMENT: ["recipient", "title", "message", "attachments"],
    }  # fmt: skip

    def __init__(self, *args, actor, kind: str, instance: SignatureRequest | None = None, **kwargs):
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "recipient": instance.recipient_key,
                **{
                    name: getattr(instance, name)
                    for name in self.FIELDS_BY_KIND[kind]
                    if name not in ("recipient", "attachments")
                },
            }
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.instance = instance
        for name in list(self.fields):
            if name not in self.FIELDS_BY_KIND[kind]:
                del self.fields[name]
        people = addressbook.addressee_list(actor=actor)
        self.fields["recipient"].choices = [("", _("Choose a client"))] + [(p.key, p.label) for p in people]
        if instance is not None:
            del self.fields["attachments"]  # attachments of an existing request are added one by one
            if instance.status != SignatureRequest.Status.DRAFT:
                self.fields["recipient"].disabled = True
        if "portfolio_reference" in self.fields:
            key = self.data.get("recipient") if self.is_bound else self.initial.get("recipient")
            if instance is not None and instance.status != SignatureRequest.Status.DRAFT:
                key = instance.recipient_key
            accounts = addressbook.account_list(actor=actor, key=key) if key else []
            self.fields["portfolio_reference"].choices = [("", _("Choose a portfolio"))] + [
                (a.reference, f"{a.label} · {a.currency}") for a in accounts
            ]
        if kind == Kind.DOCUMENT:
            self.fields["message"].help_text = _("Explain what the client signs.")

    def content(self) -> dict:
        """The cleaned values for the services (without recipient and attachments)."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name not in ("recipient", "attachments") and name in self.fields
        }


class CancelForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(
        label=_("Reason (shown to the client)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=5000,
    )


class AttachmentForm(BootstrapMixin, forms.Form):
    file = forms.FileField(
        label=_("Add an attachment"),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/png,image/jpeg"}),
        allow_empty_file=True,  # the upload check refuses it, naming the file
    )


class CodeForm(BootstrapMixin, forms.Form):
    code = forms.CharField(
        label=_("Code from the SMS"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": r"[0-9 ]*", "size": 8}
        ),
    )
    content_hash = forms.CharField(widget=forms.HiddenInput, max_length=64)


class CodeRequestForm(forms.Form):
    content_hash = forms.CharField(widget=forms.HiddenInput, max_length=64)


class DeclineForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label=_("Why do you decline?"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)


class HandleForm(BootstrapMixin, forms.Form):
    # Two submit buttons carry the outcome.
    outcome = forms.ChoiceField(choices=[("processed", _("Processed")), ("returned", _("Returned"))])
    comment = forms.CharField(
        label=_("Comment for the broker"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=5000,
        help_text=_("Required when you return the request."),
    )


class VerifyForm(BootstrapMixin, forms.Form):
    file = forms.FileField(label=_("Signed PDF"), widget=forms.ClearableFileInput(attrs={"accept": "application/pdf"}))
