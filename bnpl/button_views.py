"""Instant shopping's pages: the merchant's buy buttons and confirmations (`/bnpl/merchant/buttons/…`, in the
merchant dashboard), and the shopper's one-step purchase at `/bnpl/buy/<key>/`.

The dashboard pages follow merchant_views (merchant people only, 403 for others; a foreign button is 404).
The buy page needs a login (allauth comes back to it through `next`); a button that is unknown or switched
off gets a page that says so (404), whoever asks.
"""

from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.html import format_html
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from portal.core.lists import page_of

from . import buttons, selectors, services
from .instant import shipping_details
from .merchant_views import merchant_required, url_setting_save
from .money import CURRENCY_CHOICES

SHIPPING_ROWS = 5


class ButtonForm(forms.Form):
    """The product's fields; the shipping options come as numbered rows (`shipping_name_1`, `shipping_price_1`, …)."""

    name = forms.CharField(label=gettext_lazy("Product name"), max_length=200)
    description = forms.CharField(
        label=gettext_lazy("Description"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    image_url = forms.CharField(label=gettext_lazy("Picture (https:// address)"), max_length=500, required=False)
    unit_price = forms.DecimalField(label=gettext_lazy("Unit price"), max_digits=12, decimal_places=2)
    currency = forms.ChoiceField(label=gettext_lazy("Currency"), choices=CURRENCY_CHOICES, initial="EUR")
    tax_rate = forms.DecimalField(
        label=gettext_lazy("VAT rate (%)"), max_digits=5, decimal_places=2, initial=Decimal("19.00")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.shipping_rows = [{"number": number, "name": "", "price": ""} for number in range(1, SHIPPING_ROWS + 1)]
        self.shipping_options = []
        self.shipping_errors = []

    def clean(self):
        cleaned = super().clean()
        rows, options = [], []
        for number in range(1, SHIPPING_ROWS + 1):
            name = self.data.get(f"shipping_name_{number}", "").strip()
            price = self.data.get(f"shipping_price_{number}", "").strip()
            rows.append({"number": number, "name": name, "price": price})
            if not name and not price:
                continue
            try:
                amount = Decimal(price.replace(",", ".")) if price else Decimal("NaN")
            except InvalidOperation:
                amount = Decimal("NaN")
            options.append(buttons.ShippingInput(name=name, price=amount))
        self.shipping_rows, self.shipping_options = rows, options
        return cleaned

    @classmethod
    def of(cls, button):
        product = buttons.ButtonInput.of(button)
        form = cls(initial=product.fields())
        options = product.shipping_options
        form.shipping_rows = [
            {
                "number": number,
                "name": options[number - 1].name if number <= len(options) else "",
                "price": options[number - 1].price if number <= len(options) else "",
            }
            for number in range(1, SHIPPING_ROWS + 1)
        ]
        return form

    def product(self) -> buttons.ButtonInput:
        return buttons.ButtonInput(**self.cleaned_data, shipping_options=self.shipping_options)

    def add_service_errors(self, error: ValidationError) -> None:
        for field, problems in error.message_dict.items():
            if field == "shipping_options":
                self.shipping_errors.extend(problems)
                continue
            for problem in problems:
                self.add_error(field if field in self.fields else None, problem)


def button_snippet(button) -> str:
    """The HTML a merchant pastes into their shop: a plain link styled as a button (no script)."""
    picture = format_html(' <img src="{}" alt="" height="24">', button.image_url) if button.image_url else ""
    return format_html(
        '<a href="{}" class="partnerzone-buy-button" rel="noopener">{}{} · {}</a>',
        buttons.buy_url(button),
        _("Buy with Partnerzone"),
        picture,
        button.name,
    )


# --- The merchant's pages ------------------------------------------------------------------------------


@merchant_required
def button_list_view(request, merchant):
    listing = page_of(request, selectors.button_list(actor=request.user).order_by("-created_at", "-id"), per_page=20)
    return render(request, "bnpl/merchant/button_list.html", {**listing, "merchant": merchant, "tab": "buttons"})


def _button_form_page(request, merchant, form, *, button=None, status=200):
    return render(
        request,
        "bnpl/merchant/button_form.html",
        {
            "merchant": merchant,
            "form": form,
            "button": button,
            "snippet": button_snippet(button) if button else "",
            "buy_url": buttons.buy_url(button) if button else "",
            "tab": "buttons",
        },
        status=status,
    )


@never_cache
@merchant_required
def button_create_view(request, merchant):
    if request.method != "POST":
        return _button_form_page(request, merchant, ButtonForm())
    form = ButtonForm(request.POST)
    if form.is_valid():
        try:
            button = buttons.button_create(actor=request.user, product=form.product())
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("The buy button is ready: paste the snippet below into your shop."))
            return redirect("bnpl:merchant-button-edit", button_id=button.pk)
    return _button_form_page(request, merchant, form, status=400)


@never_cache
@merchant_required
def button_edit_view(request, merchant, button_id):
    button = selectors.access_button(actor=request.user, button_id=button_id, action="operate")
    if request.method != "POST":
        return _button_form_page(request, merchant, ButtonForm.of(button), button=button)
    form = ButtonForm(request.POST)
    if form.is_valid():
        try:
            buttons.button_update(actor=request.user, button_id=button.pk, product=form.product())
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("The buy button is saved."))
            return redirect("bnpl:merchant-button-edit", button_id=button.pk)
    return _button_form_page(request, merchant, form, button=button, status=400)


@require_POST
@merchant_required
def button_toggle_view(request, merchant, button_id):
    button = selectors.access_button(actor=request.user, button_id=button_id, action="operate")
    button = buttons.button_active_set(actor=request.user, button_id=button.pk, active=not button.active)
    if button.active:
        messages.success(request, _("The buy button is on offer again."))
    else:
        messages.success(request, _("The buy button is switched off: its link now says the product is not offered."))
    return redirect("bnpl:merchant-button-edit", button_id=button.pk)


class ConfirmationUrlForm(forms.Form):
    confirmation_url = forms.CharField(
        label=gettext_lazy("Order confirmation URL"),
        required=False,
        max_length=500,
        help_text=gettext_lazy(
            "Your server is asked here to confirm each instant purchase before it becomes an order (https://…). "
            "Leave empty to confirm every purchase by default."
        ),
    )


def _confirmations_page(request, merchant, *, form=None, status=200):
    listing = page_of(request, selectors.confirmation_list(actor=request.user), per_page=25)
    return render(
        request,
        "bnpl/merchant/confirmation_list.html",
        {
            **listing,
            "merchant": merchant,
            "form": form or ConfirmationUrlForm(initial={"confirmation_url": merchant.confirmation_url}),
            "timeout": settings.BNPL_CONFIRM_TIMEOUT_SECONDS,
            "tab": "confirmations",
        },
        status=status,
    )


@never_cache
@merchant_required
def confirmation_list_view(request, merchant):
    if request.method != "POST":
        return _confirmations_page(request, merchant)
    form = ConfirmationUrlForm(request.POST)
    if url_setting_save(request, form, "confirmation_url", buttons.confirmation_url_set, merchant=merchant):
        messages.success(request, _("The order confirmation URL is saved."))
        return redirect("bnpl:merchant-confirmations")
    return _confirmations_page(request, merchant, form=form, status=400)


# --- The shopper's page ----------------------------------------------------------------------------------


def _buy_page(request, button, *, errors=None, chosen=None, quantity=1, status=200):
    return render(
        request,
        "bnpl/buy.html",
        {
            "button": button,
            "options": list(button.shipping_options.all()),
            "chosen": chosen,
            "quantity": quantity,
            "max_quantity": buttons.MAX_QUANTITY,
            "details": shipping_details(request.user),
            "errors": errors or [],
        },
        status=status,
    )


@never_cache
@login_required
def buy_view(request, key):
    button = selectors.button_for_shopper(key=key)
    if button is None:
        return render(request, "bnpl/buy_unavailable.html", status=404)
    if request.method != "POST":
        return _buy_page(request, button)
    chosen, quantity = request.POST.get("shipping_option", ""), request.POST.get("quantity", "1").strip()
    number = int(quantity) if quantity.isascii() and quantity.isdigit() and len(quantity) < 4 else 0
    try:
        session = buttons.button_purchase(
            actor=request.user, key=key, shipping_option_id=chosen, quantity=number, locale=(get_language() or "en")[:2]
        )
    except ValidationError as error:
        if "button" in error.message_dict:
            return render(request, "bnpl/buy_unavailable.html", status=404)
        return _buy_page(request, button, errors=error.messages, chosen=chosen, quantity=quantity, status=400)
    # The checkout is on this portal: go there by path, whatever address the portal is reached under.
    return redirect(urlsplit(services.session_checkout_url(session)).path)
