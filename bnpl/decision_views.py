"""Pages of the decision module: the rule builder and purchase limits (back office), the review (credit analysts)."""

from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from portal.accounts.roles import Role
from portal.approvals.selectors import approvals_of
from portal.core.decorators import role_required
from portal.core.lists import page_of

from . import decision_rules
from .decisions import FACTS, decision_latest, purchase_review_prepare
from .models import CreditDecision, CreditRule, CreditRuleSet, Operator, Order, Shopper
from .money import CURRENCY_CHOICES

REVIEW_READERS = (Role.CREDIT_ANALYST, Role.BACKOFFICE)


class CreditRuleForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    fact = forms.ChoiceField(label=gettext_lazy("Fact"))
    operator = forms.ChoiceField(label=gettext_lazy("Operator"), choices=Operator.choices)
    value = forms.CharField(
        label=gettext_lazy("Value"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("A number, an amount or text; for “is one of”, separate values with commas."),
    )
    position = forms.IntegerField(label=gettext_lazy("Position"), min_value=0, max_value=32767, initial=10)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fact"].choices = [(key, fact.label) for key, fact in FACTS.items()]


class LimitForm(forms.Form):
    amount = forms.CharField(label=gettext_lazy("Purchase limit"), max_length=20)
    currency = forms.ChoiceField(label=gettext_lazy("Currency"), choices=CURRENCY_CHOICES)

    def clean_amount(self):
        try:
            return Decimal(self.cleaned_data["amount"].strip().replace(",", "."))
        except InvalidOperation:
            raise ValidationError(_("Enter an amount such as 1500.00.")) from None


class ReviewForm(forms.Form):
    recommendation = forms.ChoiceField(
        label=gettext_lazy("Recommendation"), choices=CreditDecision.Recommendation.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(label=gettext_lazy("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


def _styled(form):
    for field in form.fields.values():
        if not isinstance(field.widget, forms.RadioSelect):
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)
    return form


def _service_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


@role_required(Role.BACKOFFICE)
@require_http_methods(["GET", "POST"])
def credit_rule_list(request, rule_id: int | None = None):
    """The rule builder: the rules in order, a form to add one (or edit `rule_id`), and all/any."""
    rule = get_object_or_404(CreditRule.objects.restrict(request.user, "change"), pk=rule_id) if rule_id else None
    initial = {f: getattr(rule, f) for f in ("name", "fact", "operator", "value", "position")} if rule else None
    form = _styled(CreditRuleForm(request.POST if request.method == "POST" else None, initial=initial))
    if request.method == "POST" and form.is_valid():
        try:
            if rule:
                decision_rules.credit_rule_update(actor=request.user, rule_id=rule.pk, **form.cleaned_data)
                messages.success(request, _("The rule was changed."))
            else:
                decision_rules.credit_rule_create(actor=request.user, **form.cleaned_data)
                messages.success(request, _("The rule was added."))
            return redirect("bnpl:credit-rules")
        except ValidationError as error:
            _service_errors(form, error)
    context = {
        "rules": CreditRule.objects.restrict(request.user, "view"),
        "rule": rule,
        "form": form,
        "rule_set": CreditRuleSet.current(),
        "combine_choices": CreditRuleSet.Combine.choices,
        "facts": FACTS,
    }
    return render(request, "bnpl/credit_rules.html", context, status=400 if form.errors else 200)


@role_required(Role.BACKOFFICE)
@require_POST
def credit_rule_toggle(request, rule_id: int):
    rule = get_object_or_404(CreditRule.objects.restrict(request.user, "change"), pk=rule_id)
    decision_rules.credit_rule_update(actor=request.user, rule_id=rule.pk, active=not rule.active)
    messages.success(request, _("The rule was switched on.") if not rule.active else _("The rule was switched off."))
    return redirect("bnpl:credit-rules")


@role_required(Role.BACKOFFICE)
@require_POST
def credit_rules_combine(request):
    try:
        decision_rules.credit_rule_set_combine(actor=request.user, combine=request.POST.get("combine", ""))
        messages.success(request, _("How the rules combine was changed."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("bnpl:credit-rules")


@role_required(Role.BACKOFFICE)
@require_http_methods(["GET", "POST"])
def shopper_limit(request, shopper_id: int):
    shopper = get_object_or_404(Shopper.objects.restrict(request.user, "view").select_related("user"), pk=shopper_id)
    initial = {"amount": shopper.purchase_limit, "currency": shopper.purchase_limit_currency}
    form = _styled(LimitForm(request.POST if request.method == "POST" else None, initial=initial))
    if request.method == "POST" and form.is_valid():
        try:
            decision_rules.shopper_purchase_limit_set(actor=request.user, shopper_id=shopper.pk, **form.cleaned_data)
            messages.success(request, _("The purchase limit was saved."))
            return redirect("bnpl:shopper-limit", shopper_id=shopper.pk)
        except ValidationError as error:
            _service_errors(form, error)
    return render(
        request, "bnpl/shopper_limit.html", {"shopper": shopper, "form": form}, status=400 if form.errors else 200
    )


@role_required(*REVIEW_READERS)
@require_http_methods(["GET", "POST"])
def review_detail(request, order_id: int):
    """An order's credit decision with its trace; a credit analyst prepares the review here."""
    order = get_object_or_404(
        Order.objects.restrict(request.user, "view").select_related("shopper__user", "merchant"), pk=order_id
    )
    decision = decision_latest(order)
    if decision is None:
        raise Http404
    may_prepare = (
        request.user.has_role(Role.CREDIT_ANALYST)
        and order.state == Order.State.IN_REVIEW
        and decision.prepared_by_id is None
    )
    form = _styled(ReviewForm(request.POST if request.method == "POST" else None))
    if request.method == "POST":
        if not may_prepare:
            form.add_error(None, _("This review cannot be prepared (any more)."))
        elif form.is_valid():
            try:
                purchase_review_prepare(actor=request.user, order_id=order.pk, **form.cleaned_data)
                messages.success(request, _("The review was prepared; back office decides it now."))
                return redirect("bnpl:review-detail", order_id=order.pk)
            except ValidationError as error:
                _service_errors(form, error)
    # The order is the actor's (restricted above), so its approvals are theirs to read.
    approvals = approvals_of(order)
    context = {
        "order": order,
        "decision": decision,
        "form": form,
        "may_prepare": may_prepare,
        "approvals": approvals,
        "facts": FACTS,
    }
    return render(request, "bnpl/review_detail.html", context, status=400 if form.errors else 200)


@role_required(*REVIEW_READERS)
def review_list(request):
    """Orders in review and decided by people, newest first."""
    orders = (
        Order.objects.restrict(request.user, "view")
        .filter(credit_decisions__isnull=False)
        .exclude(state=Order.State.PENDING_DECISION)
        .select_related("shopper__user", "merchant")
        .distinct()
        .order_by("-created_at", "-id")
    )
    if request.GET.get("state") in Order.State.values:
        orders = orders.filter(state=request.GET["state"])
    return render(request, "bnpl/review_list.html", {**page_of(request, orders, per_page=50)})
