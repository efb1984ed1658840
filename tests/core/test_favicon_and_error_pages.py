"""The icon every browser asks for, and error pages the strict CSP lets render (the console stays clean)."""

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

STRICT = django_settings.PORTAL_CSP


def test_favicon_ico_sends_the_browser_to_the_svg_icon(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 302
    assert response["Location"] == "/static/favicon.svg"
    icon = client.get(response["Location"])
    assert icon.status_code == 200
    assert icon["Content-Type"] == "image/svg+xml"
    assert b"<svg" in b"".join(icon.streaming_content)


def test_every_page_names_the_icon(client):
    page = client.get(reverse("account_login")).content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page


def test_a_refused_form_gets_the_portals_page_under_the_strict_csp(cast):
    browser = Client(enforce_csrf_checks=True)

    response = browser.post(reverse("account_login"), {"login": cast.broker1.email, "password": PASSWORD})

    assert response.status_code == 403
    assert response["Content-Security-Policy"] == STRICT
    page = response.content.decode()
    assert "The form has expired" in page
    assert "<style" not in page and " style=" not in page
    assert "_auth_user_id" not in browser.session  # nothing happened


def test_djangos_debug_404_may_style_itself_and_the_portals_404_may_not(client, settings):
    settings.DEBUG = True
    debug_404 = client.get("/no-such-page/")
    assert debug_404.status_code == 404
    assert b"<style" in debug_404.content  # Django's technical page, shown only with DEBUG on
    assert "style-src 'self' 'unsafe-inline'" in debug_404["Content-Security-Policy"]

    settings.DEBUG = False
    portal_404 = client.get("/no-such-page/")
    assert portal_404.status_code == 404
    assert b"<style" not in portal_404.content
    assert portal_404["Content-Security-Policy"] == STRICT


def test_with_debug_on_the_portals_own_pages_keep_the_strict_csp(cast, login_as, settings):
    settings.DEBUG = True
    client = login_as(cast.client1)

    home = client.get(reverse("shell:role-home", kwargs={"role": "client"}))
    refused = client.get(reverse("intermediaries:dashboard"))  # the portal's own 403, DEBUG or not

    assert (home.status_code, refused.status_code) == (200, 403)
    assert home["Content-Security-Policy"] == refused["Content-Security-Policy"] == STRICT
