"""E-mail change with verification and password reset by e-mail, end to end through the outbox."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from portal.notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db


def link_in_last_mail(to: str) -> str:
    mail = OutboxMessage.objects.filter(recipient=to, channel="email").latest("id")
    return re.search(r"https?://[^/\s]+(/\S+)", mail.body).group(1)


def test_a_new_address_counts_only_after_it_was_verified(cast, login_as):
    client = login_as(cast.client2)
    response = client.post(reverse("account_email"), {"action_add": "", "email": "carl.new@example.com"})
    assert response.status_code == 302
    cast.client2.refresh_from_db()
    assert cast.client2.email == "client2@example.com"
    assert not EmailAddress.objects.get(email="carl.new@example.com").verified

    confirm = link_in_last_mail("carl.new@example.com")
    client.post(confirm)

    cast.client2.refresh_from_db()
    assert cast.client2.email == "carl.new@example.com"
    assert EmailAddress.objects.get(email="carl.new@example.com", primary=True).verified


def test_an_invalid_address_is_refused_and_nothing_is_sent(cast, login_as):
    client = login_as(cast.client2)
    response = client.post(reverse("account_email"), {"action_add": "", "email": "not-an-address"})
    assert response.status_code == 200
    assert not OutboxMessage.objects.filter(channel="email", recipient="not-an-address").exists()


def test_a_password_reset_link_sets_a_new_password(cast, client):
    client.post(reverse("account_reset_password"), {"email": "client1@example.com"})
    reset_page = client.get(link_in_last_mail("client1@example.com"), follow=True)
    form_url = (
        reset_page.redirect_chain[-1][0] if reset_page.redirect_chain else link_in_last_mail("client1@example.com")
    )
    response = client.post(form_url, {"password1": "a-fresh-passphrase-77", "password2": "a-fresh-passphrase-77"})
    assert response.status_code == 302
    cast.client1.refresh_from_db()
    assert cast.client1.check_password("a-fresh-passphrase-77")


def test_a_reset_for_an_unknown_address_reveals_nothing(client, cast):
    known = client.post(reverse("account_reset_password"), {"email": "client1@example.com"})
    unknown = client.post(reverse("account_reset_password"), {"email": "nobody@example.com"})
    # Same answer either way; the unknown address is only told that it has no account.
    assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"])
    mails = OutboxMessage.objects.filter(recipient="nobody@example.com")
    assert mails.count() == 1
    assert "/password/reset/key/" not in mails.get().body
