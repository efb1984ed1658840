"""The page shell is rendered once per set of inputs and reused: it must still be each user's own."""

import re

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_each_user_sees_their_own_e_mail_menu_and_unread_count(cast, login_as):
    from portal.notifications.services import notify

    notify(user=cast.broker3, event="account.welcome")
    first = login_as(cast.broker1).get(reverse("notifications:list")).content.decode()
    second = login_as(cast.broker3).get(reverse("notifications:list")).content.decode()
    client = login_as(cast.client1).get(reverse("notifications:list")).content.decode()

    assert cast.broker1.email in first and cast.broker3.email not in first
    assert cast.broker3.email in second and cast.broker1.email not in second
    assert reverse("intermediaries:dashboard") in first and reverse("intermediaries:dashboard") not in client
    assert re.search(r'data-testid="notification-bell">.*?badge[^>]*>1<', second, re.S)
    assert not re.search(r'data-testid="notification-bell">.*?badge', first.split("</nav>")[0], re.S)


def test_the_active_entry_and_the_language_switch_follow_the_page(cast, login_as):
    broker = login_as(cast.broker1)

    page = broker.get(reverse("intermediaries:client-list") + "?status=active").content.decode()

    assert re.search(r'nav-link active" aria-current="page" href="/broker/clients/"', page)
    assert '<input type="hidden" name="next" value="/broker/clients/?status=active">' in page


def test_the_forms_in_the_shell_carry_a_working_csrf_token(cast):
    from tests.conftest import login

    browser = login(Client(enforce_csrf_checks=True), cast.broker1)
    page = browser.get(reverse("notifications:list")).content.decode()
    token = re.search(
        r'action="/accounts/logout/"><input type="hidden" name="csrfmiddlewaretoken" value="([^"]+)"', page
    )

    assert token is not None
    assert browser.post("/accounts/logout/", {"csrfmiddlewaretoken": token.group(1)}).status_code == 302
    assert "_auth_user_id" not in browser.session
