"""Instant shopping, the merchant's side: buy buttons (service, pages, API), who reaches them, and bad input."""

import json
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from bnpl import buttons, selectors
from bnpl.buttons import ButtonInput, ShippingInput
from bnpl.models import BuyButton, Merchant, ShippingOption
from portal.audit.models import AuditEvent

from .test_sessions_api import key_of

pytestmark = pytest.mark.django_db

BUTTONS_API = "/api/v1/bnpl/buttons/"
BUTTONS = reverse("bnpl:merchant-buttons")
NEW = reverse("bnpl:merchant-button-new")
CONFIRMATIONS = reverse("bnpl:merchant-confirmations")


def make_button(actor, **changes) -> BuyButton:
    fields = {
        "name": "Espresso machine",
        "unit_price": Decimal("249.00"),
        "currency": "EUR",
        "tax_rate": Decimal("19.00"),
        "shipping_options": [ShippingInput("Standard", Decimal("4.90")), ShippingInput("Express", Decimal("9.90"))],
        **changes,
    }
    return buttons.button_create(actor=actor, product=ButtonInput(**fields))


def api_body(**changes) -> dict:
    return {
        "name": "Coffee grinder",
        "unit_price": "89.00",
        "currency": "EUR",
        "tax_rate": "19.00",
        "shipping_options": [{"name": "Standard", "price": "4.90"}, {"name": "Pick-up in store", "price": "0"}],
        **changes,
    }


def api_post(client, data, credentials):
    return client.post(BUTTONS_API, json.dumps(data), content_type="application/json", **credentials)


def form_data(**changes) -> dict:
    return {
        "name": "Milk frother",
        "unit_price": "39.90",
        "currency": "EUR",
        "tax_rate": "19",
        "shipping_name_1": "Standard",
        "shipping_price_1": "3.90",
        **changes,
    }


# --- The service -------------------------------------------------------------------------------------


def test_a_merchant_makes_a_button_with_an_unguessable_key_and_its_shipping_rows(shops, cast):
    button = make_button(cast.merchant)

    assert button.merchant == shops.delta and button.active
    assert button.key.startswith("pzb_") and len(button.key) >= 36
    assert make_button(cast.merchant, name="Other").key != button.key
    assert list(button.shipping_options.values_list("position", "name", "price")) == [
        (1, "Standard", Decimal("4.90")),
        (2, "Express", Decimal("9.90")),
    ]
    event = AuditEvent.objects.get(action="bnpl.button_created", object_id=str(button.pk))
    assert event.actor == cast.merchant and event.changes["shipping_options"] == ["Standard: 4.90", "Express: 9.90"]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"unit_price": Decimal("-1.00")}, "unit_price", "more than zero"),
        ({"unit_price": Decimal("0")}, "unit_price", "more than zero"),
        ({"unit_price": Decimal("1.001")}, "unit_price", "whole cents"),
        ({"currency": "XYZ"}, "currency", "XYZ is not supported"),
        ({"tax_rate": Decimal("101")}, "tax_rate", "0 to 100"),
        ({"name": "  "}, "name", "product's name"),
        ({"image_url": "http://shop.example/p.png"}, "image_url", "https://"),
        ({"shipping_options": []}, "shipping_options", "at least one shipping option"),
        ({"shipping_options": [ShippingInput(" ", Decimal("1"))]}, "shipping_options", "give its name"),
        ({"shipping_options": [ShippingInput("Std", Decimal("-2"))]}, "shipping_options", "zero or more"),
        (
            {"shipping_options": [ShippingInput("Std", Decimal("1")), ShippingInput("std", Decimal("2"))]},
            "shipping_options",
            "used twice",
        ),
    ],
)
def test_bad_input_names_the_field_and_stores_nothing(shops, cast, changes, field, message):
    with pytest.raises(ValidationError) as caught:
        make_button(cast.merchant, **changes)

    assert message in " ".join(caught.value.message_dict[field])
    assert not BuyButton.objects.exists() and not ShippingOption.objects.exists()
    assert not AuditEvent.objects.filter(action="bnpl.button_created").exists()


def test_only_a_merchants_people_make_buttons(shops, cast):
    for person in (cast.client2, cast.backoffice, cast.outsider):
        with pytest.raises(PermissionDenied):
            make_button(person)
    Merchant.objects.filter(pk=shops.delta.pk).update(active=False)
    with pytest.raises(PermissionDenied):
        make_button(cast.merchant)
    assert not BuyButton.objects.exists()


def test_a_change_replaces_the_shipping_options_and_is_audited(shops, cast):
    button = make_button(cast.merchant)

    buttons.button_update(
        actor=cast.merchant,
        button_id=button.pk,
        product=ButtonInput(
            name="Espresso machine Pro",
            unit_price=Decimal("299.00"),
            currency="EUR",
            tax_rate=Decimal("19.00"),
            shipping_options=[ShippingInput("Freight", Decimal("19.00"))],
        ),
    )

    button.refresh_from_db()
    assert button.name == "Espresso machine Pro" and button.unit_price == Decimal("299.00")
    assert list(button.shipping_options.values_list("name", flat=True)) == ["Freight"]
    changes = AuditEvent.objects.get(action="bnpl.button_changed").changes
    assert changes["unit_price"] == ["249.00", "299.00"]
    assert changes["shipping_options"] == [["Standard: 4.90", "Express: 9.90"], ["Freight: 19.00"]]


def test_another_merchant_can_neither_change_nor_switch_off_a_button(shops, cast):
    button = make_button(cast.merchant)

    with pytest.raises(PermissionDenied):
        buttons.button_active_set(actor=shops.merchant2, button_id=button.pk, active=False)
    with pytest.raises(PermissionDenied):
        buttons.button_update(
            actor=shops.merchant2,
            button_id=button.pk,
            product=ButtonInput("Mine now", Decimal("1.00"), "EUR", [ShippingInput("Std", Decimal("0"))]),
        )
    button.refresh_from_db()
    assert button.active and button.name == "Espresso machine"


# --- Who sees what (S1) ------------------------------------------------------------------------------------


def test_each_merchant_sees_only_its_own_buttons_and_staff_read_them_all(shops, cast):
    delta = make_button(cast.merchant)
    epsilon = make_button(shops.merchant2, name="Tea set")

    assert list(selectors.button_list(actor=cast.merchant)) == [delta]
    assert list(selectors.button_list(actor=shops.merchant2)) == [epsilon]
    assert set(selectors.button_list(actor=cast.backoffice)) == {delta, epsilon}
    assert not selectors.button_list(actor=cast.backoffice, action="operate").exists()
    for person in (cast.client2, cast.outsider, cast.broker1):
        assert not selectors.button_list(actor=person).exists()
    assert not ShippingOption.objects.restrict(shops.merchant2).filter(button=delta).exists()


@pytest.mark.parametrize("url_name", ["bnpl:merchant-button-edit", "bnpl:merchant-button-toggle"])
def test_another_merchants_button_page_is_404(shops, cast, login_as, url_name):
    button = make_button(cast.merchant)
    client = login_as(shops.merchant2)

    response = client.post(reverse(url_name, args=[button.pk]), form_data(name="Mine"))

    assert response.status_code == 404
    button.refresh_from_db()
    assert button.active and button.name == "Espresso machine"


@pytest.mark.parametrize("url", [BUTTONS, NEW, CONFIRMATIONS])
@pytest.mark.parametrize("who", ["client2", "outsider", "backoffice"])
def test_only_merchant_people_get_into_the_button_pages(shops, cast, login_as, url, who):
    assert login_as(getattr(cast, who)).get(url).status_code == 403


def test_the_api_answers_404_for_another_merchants_button(shops, cast, client):
    button = make_button(cast.merchant)
    theirs = key_of(shops.merchant2)
    url = f"{BUTTONS_API}{button.pk}/"

    assert client.get(url, **theirs).status_code == 404
    patch = client.patch(url, json.dumps({"active": False}), content_type="application/json", **theirs)
    assert patch.status_code == 404
    assert client.get(BUTTONS_API, **theirs).json()["results"] == []
    button.refresh_from_db()
    assert button.active


# --- The pages -----------------------------------------------------------------------------------------------


def test_a_merchant_makes_a_button_on_the_page_and_gets_its_snippet(shops, cast, login_as, settings):
    settings.PORTAL_BASE_URL = "https://portal.example.com"
    client = login_as(cast.merchant)

    response = client.post(NEW, form_data(shipping_name_2="Express", shipping_price_2="7,50"))

    button = BuyButton.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "bnpl:merchant-button-edit", args=[button.pk]
    )
    assert list(button.shipping_options.values_list("name", "price")) == [
        ("Standard", Decimal("3.90")),
        ("Express", Decimal("7.50")),
    ]
    page = client.get(response["Location"]).content.decode()
    assert f"https://portal.example.com/bnpl/buy/{button.key}/" in page
    assert "partnerzone-buy-button" in page
    listing = client.get(BUTTONS).content.decode()
    assert "Milk frother" in listing


def test_a_shipping_price_without_a_name_is_refused_on_the_page(shops, cast, login_as):
    response = login_as(cast.merchant).post(NEW, form_data(shipping_name_1="", shipping_price_1="3.90"))

    assert response.status_code == 400
    assert "Shipping option 1: give its name" in response.content.decode()
    assert not BuyButton.objects.exists()


def test_switching_a_button_off_and_on_from_the_page(shops, cast, login_as):
    button = make_button(cast.merchant)
    client = login_as(cast.merchant)
    toggle = reverse("bnpl:merchant-button-toggle", args=[button.pk])

    assert client.post(toggle).status_code == 302
    button.refresh_from_db()
    assert not button.active
    assert AuditEvent.objects.filter(action="bnpl.button_deactivated", object_id=str(button.pk)).exists()
    client.post(toggle)
    button.refresh_from_db()
    assert button.active


def test_the_button_list_runs_a_bounded_number_of_queries(shops, cast, login_as, django_assert_max_num_queries):
    client = login_as(cast.merchant)
    make_button(cast.merchant)
    client.get(BUTTONS)  # warm the session and the caches
    with django_assert_max_num_queries(15) as few:
        assert client.get(BUTTONS).status_code == 200
    for number in range(10):
        make_button(cast.merchant, name=f"Product {number}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(BUTTONS).status_code == 200


# --- The API -----------------------------------------------------------------------------------------------------


def test_the_api_makes_reads_changes_and_switches_off_a_button(shops, cast, client, settings):
    settings.PORTAL_BASE_URL = "https://portal.example.com"
    mine = key_of(cast.merchant)

    created = api_post(client, api_body(), mine)

    assert created.status_code == 201, created.content
    data = created.json()
    button = BuyButton.objects.get()
    assert created["Location"] == f"{BUTTONS_API}{button.pk}/"
    assert data["key"] == button.key and data["buy_url"] == f"https://portal.example.com/bnpl/buy/{button.key}/"
    assert data["unit_price"] == "89.00" and [o["name"] for o in data["shipping_options"]] == [
        "Standard",
        "Pick-up in store",
    ]
    url = created["Location"]
    changed = client.patch(url, json.dumps({"unit_price": "79.00"}), content_type="application/json", **mine)
    assert changed.status_code == 200
    assert changed.json()["unit_price"] == "79.00" and len(changed.json()["shipping_options"]) == 2
    off = client.patch(url, json.dumps({"active": False}), content_type="application/json", **mine)
    assert off.status_code == 200 and off.json()["active"] is False
    assert client.get(url, **mine).json()["active"] is False
    assert client.delete(url, **mine).status_code == 405  # switched off, never removed: sessions point at it
    assert [row["id"] for row in client.get(BUTTONS_API, **mine).json()["results"]] == [button.pk]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"unit_price": "-5.00"}, "unit_price"),
        ({"currency": "ABC"}, "currency"),
        ({"shipping_options": [{"name": "", "price": "4.90"}]}, "shipping_options"),
        ({"shipping_options": []}, "shipping_options"),
    ],
)
def test_the_api_refuses_bad_input_with_400_and_stores_nothing(shops, cast, client, changes, field):
    response = api_post(client, api_body(**changes), key_of(cast.merchant))

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert not BuyButton.objects.exists() and not ShippingOption.objects.exists()


def test_a_bad_change_through_the_api_changes_nothing(shops, cast, client):
    button = make_button(cast.merchant)
    url = f"{BUTTONS_API}{button.pk}/"

    response = client.patch(
        url, json.dumps({"unit_price": "-1", "active": False}), content_type="application/json", **key_of(cast.merchant)
    )

    assert response.status_code == 400 and "unit_price" in response.json()["error"]["details"]
    button.refresh_from_db()
    assert button.unit_price == Decimal("249.00") and button.active


def test_a_read_only_key_cannot_make_buttons(shops, cast, client):
    response = api_post(client, api_body(), key_of(cast.merchant, scopes={"bnpl": "read"}))

    assert response.status_code == 403
    assert not BuyButton.objects.exists()


def test_a_repeated_post_with_the_same_idempotency_key_makes_one_button(shops, cast, client):
    mine = key_of(cast.merchant)

    first = client.post(
        BUTTONS_API, json.dumps(api_body()), content_type="application/json", HTTP_IDEMPOTENCY_KEY="btn-1", **mine
    )
    again = client.post(
        BUTTONS_API, json.dumps(api_body()), content_type="application/json", HTTP_IDEMPOTENCY_KEY="btn-1", **mine
    )
    other = client.post(
        BUTTONS_API,
        json.dumps(api_body(name="Other")),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="btn-1",
        **mine,
    )

    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert other.status_code == 409
    assert BuyButton.objects.count() == 1


def test_back_office_reads_buttons_and_confirmations_in_admin_and_changes_none(shops, cast, login_as):
    from bnpl import instant
    from bnpl.roles import staff_permissions_grant

    staff_permissions_grant()
    delta, epsilon = make_button(cast.merchant), make_button(shops.merchant2, name="Tea set")
    session = buttons.button_purchase(
        actor=cast.client2, key=delta.key, shipping_option_id=delta.shipping_options.first().pk, quantity=1
    )
    instant.merchant_confirm(session=session)
    client = login_as(cast.backoffice)

    listing = client.get(reverse("admin:bnpl_buybutton_changelist")).content.decode()
    assert "Espresso machine" in listing and "Tea set" in listing
    assert client.get(reverse("admin:bnpl_merchantconfirmation_changelist")).status_code == 200
    change = reverse("admin:bnpl_buybutton_change", args=[epsilon.pk])
    client.post(change, {"active": ""})
    assert client.post(reverse("admin:bnpl_buybutton_delete", args=[epsilon.pk]), {"post": "yes"}).status_code == 403
    epsilon.refresh_from_db()
    assert epsilon.active
    merchant_admin = login_as(cast.merchant).get(reverse("admin:bnpl_buybutton_changelist"))
    assert merchant_admin.status_code == 302 and "/login" in merchant_admin["Location"]
