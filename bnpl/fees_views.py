"""/bnpl/fees/: back office's page of the fee module — schedules, groups, status rules, and for a
chosen shopper which schedule applies and why (person > fee status > group > region > default)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import fees, fees_manage
from .fees_permissions import can_manage_fees
from .models import CustomerGroup, FeeSchedule, FeeStatus, FeeStatusChange, FeeStatusRule, Shopper
from .money import CURRENCY_CHOICES


def _shopper_by_email(email: str) -> Shopper:
    shopper = Shopper.objects.select_related("user", "customer_group").filter(user__email__iexact=email).first()
    if shopper is None:
        raise ValidationError(_("No shopper with the e-mail address “%(email)s”.") % {"email": email})
    return shopper


class ShopperLookupForm(forms.Form):
    shopper = forms.EmailField(label=gettext_lazy("Shopper's e-mail"))
    currency = forms.ChoiceField(label=gettext_lazy("Currency"), choices=CURRENCY_CHOICES, initial="EUR")

    def clean_shopper(self):
        return _shopper_by_email(self.cleaned_data["shopper"])


class FeeScheduleForm(forms.ModelForm):
    shopper_email = forms.EmailField(label=gettext_lazy("Shopper's e-mail (person scope)"), required=False)

    class Meta:
        model = FeeSchedule
        fields = [f for f in fees_manage.SCHEDULE_FIELDS if f != "shopper"]
        widgets = {"valid_from": forms.DateInput(attrs={"type": "date"})}

    def clean(self):
        data = super().clean()
        scope = data.get("scope")
        email = data.get("shopper_email")
        data["shopper"] = None
        if scope == FeeSchedule.Scope.PERSON:
            if not email:
                self.add_error("shopper_email", _("A person's schedule needs the shopper's e-mail address."))
            else:
                try:
                    data["shopper"] = _shopper_by_email(email)
                except ValidationError as exc:
                    self.add_error("shopper_email", exc)
        elif email:
            self.add_error("shopper_email", _("Only a person's schedule names a shopper."))
        if scope == FeeSchedule.Scope.GROUP and not data.get("group"):
            self.add_error("group", _("A group's schedule needs the group."))
        if scope != FeeSchedule.Scope.GROUP and data.get("group"):
            self.add_error("group", _("Only a group's schedule names a group."))
        if scope == FeeSchedule.Scope.STATUS and not data.get("status"):
            self.add_error("status", _("A fee status's schedule needs the status (watch, loyal or restricted)."))
        if scope != FeeSchedule.Scope.STATUS and data.get("status"):
            self.add_error("status", _("Only a fee status's schedule names a status."))
        if scope == FeeSchedule.Scope.REGION and not data.get("region"):
            self.add_error("region", _("A region's schedule needs the region (DE or DE-BY)."))
        if scope != FeeSchedule.Scope.REGION and data.get("region"):
            self.add_error("region", _("Only a region's schedule names a region."))
        return data

    def _post_clean(self):
        self.instance.shopper = self.cleaned_data.get("shopper")
        super()._post_clean()


class FeeStatusRuleForm(forms.ModelForm):
    class Meta:
        model = FeeStatusRule
        fields = list(fees_manage.RULE_FIELDS)

    def clean(self):
        data = super().clean()
        if data.get("condition") == FeeStatusRule.Condition.LATE_PAYMENTS and not data.get("days"):
            self.add_error("days", _("Say over how many days late payments are counted."))
        return data


class CustomerGroupForm(forms.ModelForm):
    class Meta:
        model = CustomerGroup
        fields = ["name", "description"]


class ShopperGroupForm(forms.Form):
    shopper = forms.EmailField(label=gettext_lazy("Shopper's e-mail"))
    group = forms.ModelChoiceField(
        label=gettext_lazy("Customer group"), queryset=CustomerGroup.objects.all(), required=False
    )

    def clean_shopper(self):
        return _shopper_by_email(self.cleaned_data["shopper"])


FORMS = {
    "schedule": FeeScheduleForm,
    "rule": FeeStatusRuleForm,
    "group": CustomerGroupForm,
    "assign": ShopperGroupForm,
}


@login_required
def fees_page(request):
    if not can_manage_fees(request.user):
        raise PermissionDenied
    bound = {}
    if request.method == "POST":
        kind = request.POST.get("form", "")
        if kind not in FORMS:
            return render(request, "bnpl/fees.html", _context(request, {}, error=_("Unknown form.")), status=400)
        form = FORMS[kind](request.POST, prefix=kind)
        if form.is_valid():
            try:
                _save(request.user, kind, form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Saved."))
                return redirect("bnpl:fees")
        bound[kind] = form
        return render(request, "bnpl/fees.html", _context(request, bound), status=400)
    return render(request, "bnpl/fees.html", _context(request, bound), status=200 if _lookup_ok(request) else 400)


def _lookup_ok(request) -> bool:
    return "shopper" not in request.GET or ShopperLookupForm(request.GET).is_valid()


def _save(actor, kind: str, data: dict) -> None:
    if kind == "schedule":
        fees_manage.fee_schedule_create(actor=actor, **{f: data.get(f) for f in fees_manage.SCHEDULE_FIELDS})
    elif kind == "rule":
        fees_manage.fee_status_rule_create(actor=actor, **{f: data.get(f) for f in fees_manage.RULE_FIELDS})
    elif kind == "group":
        fees_manage.customer_group_create(actor=actor, name=data["name"], description=data["description"])
    else:
        fees_manage.shopper_customer_group_set(actor=actor, shopper_id=data["shopper"].pk, group=data["group"])


def _context(request, bound: dict, error: str = "") -> dict:
    lookup = ShopperLookupForm(request.GET) if "shopper" in request.GET else ShopperLookupForm()
    resolution = None
    if lookup.is_bound and lookup.is_valid():
        shopper, currency = lookup.cleaned_data["shopper"], lookup.cleaned_data["currency"]
        schedule, why = fees.fee_schedule_for(shopper, currency)
        resolution = {
            "shopper": shopper,
            "currency": currency,
            "schedule": schedule,
            "why": why,
            "steps": fees.fee_schedule_explain(shopper, currency),
            "status": FeeStatus.objects.filter(shopper=shopper).first(),
            "history": FeeStatusChange.objects.filter(shopper=shopper).select_related("rule")[:20],
        }
    return {
        "error": error,
        "today": timezone.localdate(),
        "lookup": lookup,
        "resolution": resolution,
        "schedules": FeeSchedule.objects.select_related("shopper__user", "group").order_by(
            "currency", "scope", "-valid_from"
        ),
        "groups": CustomerGroup.objects.all(),
        "rules": FeeStatusRule.objects.all(),
        "forms": {kind: bound.get(kind) or form_class(prefix=kind) for kind, form_class in FORMS.items()},
    }
