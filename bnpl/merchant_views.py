"""The merchant dashboard (`/bnpl/merchant/`): a shop's orders with their CSV, settlement totals,
webhooks with their attempts ("Send again"), and the webhook URL and secret.

Only the people of a BNPL merchant (role merchant) get in; anyone else gets 403, and a merchant
person whose organisation sells without BNPL gets 404. Every read goes through the policies, so a
shop sees only its own orders and webhooks (another shop's delivery is 404).
"""

from functools import wraps
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from portal.accounts.two_factor import session_verified, user_has_second_factor
from portal.core.lists import csv_response, filter_error_response, filtered, list_page, page_of, plain_number

from . import selectors, services, webhooks
from .filters import OrderFilter
from .merchant_dashboard import settlement_totals, webhook_delivery_list
from .models import Order, WebhookDelivery
from .permissions import is_merchant_user


def merchant_required(view):
    """Logged in, a merchant's person (403 otherwise) of a BNPL merchant (404 otherwise); passes the merchant."""

    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if not is_merchant_user(request.user):
            raise PermissionDenied
        merchant = selectors.merchant_of(actor=request.user)
        if merchant is None:
            raise Http404
        return view(request, merchant, *args, **kwargs)

    return wrapped


class WebhookUrlForm(forms.Form):
    webhook_url = forms.CharField(
        label=gettext_lazy("Webhook URL"),
        required=False,
        max_length=500,
        help_text=gettext_lazy("Where order events are POSTed (https://…). Leave empty to receive none."),
    )


# The dashboard lists a shop's latest open checkouts (a few; the API lists them all).
OPEN_SESSIONS_SHOWN = 5


def _orders(request):
    return selectors.order_list(actor=request.user).order_by("-created_at", "-id")


@merchant_required
def order_list_view(request, merchant):
    listing = list_page(request, OrderFilter, _orders(request), per_page=25)
    valid = listing.status == 200
    period = listing.filter.form.cleaned_data if valid else {}
    return render(
        request,
        "bnpl/merchant/order_list.html",
        {
            **listing.context,
            "merchant": merchant,
            "states": Order.State.choices,
            "chosen_states": request.GET.getlist("state"),
            "totals": settlement_totals(
                actor=request.user, start=period.get("created_after"), end=period.get("created_before")
            )
            if valid
            else [],
            "tab": "orders",
            "open_sessions": selectors.open_session_list(actor=request.user)[:OPEN_SESSIONS_SHOWN],
        },
        status=listing.status,
    )


@merchant_required
def order_list_export(request, merchant):
    """The list's orders as CSV, filtered exactly like the page (the same FilterSet)."""
    export = filtered(request, OrderFilter, _orders(request))
    if not export.is_valid():
        return filter_error_response(export)
    header = [
        _("Order reference"),
        _("Created"),
        _("State"),
        _("Amount"),
        _("Refunded"),
        _("Currency"),
        _("Payment option"),
        _("Shopper"),
        _("Shipped"),
        _("Carrier"),
        _("Tracking number"),
    ]
    labels = dict(Order.State.choices)
    rows = (
        [
            order.reference,
            order.created_at.isoformat(),
            str(labels.get(order.state, order.state)),
            plain_number(order.amount),
            plain_number(order.refunded_amount),
            order.currency,
            order.option_key,
            order.shopper.user.email,
            order.shipped_at.isoformat() if order.shipped_at else "",
            order.carrier,
            order.tracking_number,
        ]
        for order in export.qs.iterator(chunk_size=500)
    )
    return csv_response(filename=f"orders-{merchant.pk}.csv", header=header, rows=rows)


@merchant_required
def webhook_list_view(request, merchant):
    state = request.GET.get("state", "")
    if state not in WebhookDelivery.State.values:
        state = ""
    listing = page_of(request, webhook_delivery_list(actor=request.user, state=state), per_page=20)
    return render(
        request,
        "bnpl/merchant/webhook_list.html",
        {
            **listing,
            "merchant": merchant,
            "state": state,
            "states": WebhookDelivery.State.choices,
            "resendable": {
                WebhookDelivery.State.DELIVERED,
                WebhookDelivery.State.FAILED,
                WebhookDelivery.State.GIVEN_UP,
            },
            "tab": "webhooks",
        },
    )


@require_POST
@merchant_required
def webhook_resend_view(request, merchant, delivery_id):
    if not WebhookDelivery.objects.restrict(request.user, "operate").filter(pk=delivery_id).exists():
        raise Http404
    try:
        webhooks.webhook_resend(actor=request.user, delivery_id=delivery_id)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Webhook #%(id)s is queued to be sent again.") % {"id": delivery_id})
    return redirect("bnpl:merchant-webhooks")


def url_setting_save(request, form, field: str, service, *, merchant) -> bool:
    """Save one of the merchant's URLs (webhooks, order confirmations) through its service; on refusal the
    service's reasons go onto the form's field and False comes back."""
    if not form.is_valid():
        return False
    try:
        service(actor=request.user, merchant_id=merchant.pk, **{field: form.cleaned_data[field]})
    except ValidationError as error:
        for message in error.message_dict.get(field, error.messages):
            form.add_error(field, message)
        return False
    return True


def _settings_page(request, merchant, *, form=None, status=200):
    return render(
        request,
        "bnpl/merchant/settings.html",
        {
            "merchant": merchant,
            "form": form or WebhookUrlForm(initial={"webhook_url": merchant.webhook_url}),
            "verified": session_verified(request.user),
            "has_second_factor": user_has_second_factor(request.user),
            "tab": "settings",
        },
        status=status,
    )


@never_cache
@merchant_required
def settings_view(request, merchant):
    if request.method != "POST":
        return _settings_page(request, merchant)
    form = WebhookUrlForm(request.POST)
    if url_setting_save(request, form, "webhook_url", webhooks.webhook_url_set, merchant=merchant):
        messages.success(request, _("The webhook URL is saved."))
        return redirect("bnpl:merchant-settings")
    return _settings_page(request, merchant, form=form, status=400)


@never_cache
@require_POST
@merchant_required
def secret_rotate_view(request, merchant):
    """A new webhook secret, shown once; only for a session verified with the second factor."""
    if not session_verified(request.user):
        target = "accounts:2fa-verify" if user_has_second_factor(request.user) else "accounts:2fa-setup"
        return redirect(f"{reverse(target)}?{urlencode({'next': reverse('bnpl:merchant-settings')})}")
    merchant, secret = services.merchant_webhook_secret_rotate(
        actor=request.user, second_factor_verified=True, merchant_id=merchant.pk
    )
    return render(request, "bnpl/merchant/secret_created.html", {"merchant": merchant, "secret": secret})
