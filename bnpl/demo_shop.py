"""A tiny shop for the demo: a cart that pays later through the merchant API, as a real shop would.

It stands for a merchant's own web shop, so it talks to the portal only the way a shop's server
does: over HTTP, with Delta Shop's API key (made by the demo, kept in `BNPL_DEMO_SHOP_KEY_FILE`),
`POST /api/v1/bnpl/sessions/`, then it sends the shopper to the hosted checkout URL from the answer.
It is served only where `BNPL_DEMO_SHOP` is on (the demo, DEBUG); everywhere else it is a 404.
"""

import json
import secrets
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from .services import return_url_check

SESSIONS_PATH = "/api/v1/bnpl/sessions/"
TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    unit_price: Decimal
    tax_rate: Decimal


# Delta Shop's window. The road bike costs more than the demo shopper's purchase limit, so buying
# it shows a purchase going to manual review.
PRODUCTS = (
    Product("espresso", "Espresso machine", Decimal("249.00"), Decimal("19.00")),
    Product("beans", "Coffee beans 1 kg", Decimal("18.50"), Decimal("7.00")),
    Product("grinder", "Coffee grinder", Decimal("89.90"), Decimal("19.00")),
    Product("bike", "Road bike", Decimal("2400.00"), Decimal("19.00")),
)
MAX_QUANTITY = 20


def _enabled_or_404() -> None:
    if not settings.BNPL_DEMO_SHOP:
        raise Http404


def _api_key() -> str:
    path = Path(settings.BNPL_DEMO_SHOP_KEY_FILE)
    return path.read_text().strip() if path.exists() else ""


def _cart(post) -> tuple[list[tuple[Product, int]], str]:
    """The products with their quantities from the form, and what is wrong with it (or "")."""
    cart = []
    for product in PRODUCTS:
        raw = (post.get(f"qty-{product.sku}") or "0").strip()
        if not raw.isdigit() or int(raw) > MAX_QUANTITY:
            return [], _("Choose a quantity between 0 and %(max)d.") % {"max": MAX_QUANTITY}
        if int(raw):
            cart.append((product, int(raw)))
    if not cart:
        return [], _("Put at least one product in the cart.")
    return cart, ""


def _session_body(cart, *, email: str, reference: str, return_url: str) -> dict:
    lines = [
        {"name": p.name, "quantity": qty, "unit_price": str(p.unit_price), "tax_rate": str(p.tax_rate)}
        for p, qty in cart
    ]
    amount = sum((p.unit_price * qty for p, qty in cart), Decimal(0))
    return {
        "amount": str(amount),
        "currency": "EUR",
        "reference": reference,
        "shopper_email": email,
        "locale": (get_language() or "en")[:2],
        "order_lines": lines,
        "return_url": return_url,
    }


def _session_open(body: dict) -> tuple[str, str]:
    """(checkout URL, "") from the portal's API, or ("", why not) — the shop's server side."""
    key = _api_key()
    if not key:
        return "", _("The demo shop has no API key yet: run `make demo` (or `manage.py demo`) first.")
    try:
        answer = requests.post(
            settings.PORTAL_BASE_URL.rstrip("/") + SESSIONS_PATH,
            data=json.dumps(body),
            headers={
                "Authorization": f"Api-Key {key}",
                "Content-Type": "application/json",
                "Idempotency-Key": body["reference"],
            },
            timeout=TIMEOUT_SECONDS,
        )
    except requests.RequestException:
        return "", _("The payment service did not answer. Try again in a moment.")
    if answer.status_code != 201:
        return "", _("The payment service refused the cart (%(status)d): %(detail)s") % {
            "status": answer.status_code,
            "detail": answer.text[:300],
        }
    return answer.json().get("checkout_url", ""), ""


@require_http_methods(["GET", "POST"])
def demo_shop(request):
    _enabled_or_404()
    problem = ""
    email = request.POST.get("email", "client2@example.com").strip()
    if request.method == "POST":
        cart, problem = _cart(request.POST)
        if not problem:
            reference = "SHOP-" + secrets.token_hex(4).upper()
            body = _session_body(
                cart,
                email=email,
                reference=reference,
                return_url=demo_shop_return_url(reference),
            )
            checkout_url, problem = _session_open(body)
            if checkout_url:
                return redirect(checkout_url)
    return render(
        request,
        "bnpl/demo_shop/shop.html",
        {
            "rows": [(product, request.POST.get(f"qty-{product.sku}", "0")[:3]) for product in PRODUCTS],
            "problem": problem,
            "email": email,
        },
        status=400 if problem else 200,
    )


def demo_shop_return_url(reference: str = "") -> str:
    """The shop's thank-you page for the checkout's "back to the shop" link, where the portal takes it
    (https, or http on loopback while DEBUG); otherwise none."""
    if not settings.BNPL_DEMO_SHOP:
        return ""
    url = settings.PORTAL_BASE_URL.rstrip("/") + reverse("bnpl:demo-shop-thanks")
    try:
        return return_url_check(f"{url}?order={reference}" if reference else url)
    except ValidationError:
        return ""


def demo_shop_thanks(request):
    _enabled_or_404()
    reference = request.GET.get("order", "")[:64]
    return render(request, "bnpl/demo_shop/thanks.html", {"reference": reference})


DEMO_KEY_NAME = "Demo shop"


def demo_shop_key_ensure(merchant_user, *, stdout) -> None:
    """Delta Shop's API key for the demo shop, its secret in BNPL_DEMO_SHOP_KEY_FILE (made once).

    Only where the demo shop is served; the file is the shop server's own secret store, readable
    by the portal's user only.
    """
    from portal.api.models import ApiKey
    from portal.api.services import api_key_create

    if not settings.BNPL_DEMO_SHOP:
        return
    path = Path(settings.BNPL_DEMO_SHOP_KEY_FILE)
    live = ApiKey.objects.filter(owner=merchant_user, name=DEMO_KEY_NAME, revoked_at__isnull=True)
    shop_url = settings.PORTAL_BASE_URL.rstrip("/") + reverse("bnpl:demo-shop")
    if path.exists() and live.exists():
        stdout.write(f"  bnpl: the demo shop is at {shop_url}")
        return
    # Run by the operator at the console, not from a web session: there is no second factor to ask.
    _, secret = api_key_create(
        actor=merchant_user, second_factor_verified=True, name=DEMO_KEY_NAME, scopes={"bnpl": "write"}
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(secret + "\n")
    stdout.write(f"  bnpl: the demo shop is at {shop_url}; it pays later with Delta Shop's API key (kept in {path})")
