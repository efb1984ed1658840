"""The client's profile: contact data, the mobile number, sessions, language and who may reach it."""

import re

import pytest
from django.conf import settings
from django.test import Client as Browser
from django.urls import reverse

from clients.models import Client
from portal.accounts import phone_verification as pv
from portal.accounts.models import User, UserSession
from portal.accounts.user_sessions import device_label
from portal.audit.models import AuditEvent
from portal.notifications.models import OutboxMessage
from portal.notifications.selectors import dev_message_text
from tests.conftest import login
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

PROFILE = reverse("clients:profile")
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)


@pytest.fixture
def records(cast):
    """The client records behind client1 and client2 (client3 has none here)."""
    anna = Client.objects.create(
        number="C1001",
        first_name="Anna",
        last_name="Albers",
        advisor=cast.broker1,
        user=cast.client1,
        email="anna@example.com",
        phone="+4930123456",
        street="Lindenstraße 12",
        postcode="10115",
        city="Berlin",
        country="DE",
    )
    bert = Client.objects.create(
        number="C1002", first_name="Bert", last_name="Brandt", advisor=cast.broker1, user=cast.client2
    )
    return anna, bert


CONTACT = {
    "street": "Am Markt 3",
    "postcode": "80331",
    "city": "München",
    "country": "de",
    "email": "Anna.Albers@Example.com",
    "phone": "+49 89 1234 567",
}


def browser_logged_in(user, *, agent: str, address: str) -> Browser:
    """A browser that logs in through the login page (as a person does), from its own address."""
    browser = Browser(HTTP_USER_AGENT=agent, REMOTE_ADDR=address)
    response = browser.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return browser


# --- access --------------------------------------------------------------------------------------------


def test_the_client_sees_every_section_of_their_profile(cast, records, login_as):
    response = login_as(cast.client1).get(PROFILE)

    assert response.status_code == 200
    page = response.text
    for section in ("contact-panel", "mobile-panel", "export-panel", "language-panel", "notifications-panel"):
        assert f'data-testid="{section}"' in page
    assert 'data-testid="security-panel"' in page and 'data-testid="sessions-panel"' in page
    assert "Lindenstraße 12" in page and "C1001" in page
    assert reverse("notifications:preferences") in page and reverse("account_change_password") in page
    assert 'data-testid="two-factor-state"><span class="badge text-bg-success">On<' in page
    assert reverse("accounts:security") in page


def test_a_client_without_an_authenticator_is_offered_one(cast, records, login_as):
    page = login_as(cast.client1, verified=False).get(PROFILE).text

    assert 'data-testid="two-factor-state"><span class="badge text-bg-secondary">Off<' in page
    assert f"{reverse('accounts:2fa-setup')}?next={PROFILE}" in page


def test_the_menu_has_a_profile_entry_for_clients_only(cast, records, login_as):
    assert f'href="{PROFILE}"' in login_as(cast.client1).get(PROFILE).text
    assert f'href="{PROFILE}"' not in login_as(cast.broker1).get(reverse("intermediaries:dashboard")).text


@pytest.mark.parametrize("who", ["broker1", "manager", "backoffice", "outsider", "client3"])
def test_anyone_but_a_client_with_a_record_gets_404(cast, records, login_as, who):
    client = login_as(getattr(cast, who))
    assert client.get(PROFILE).status_code == 404
    assert client.post(reverse("clients:profile-contact"), CONTACT).status_code == 404
    assert client.post(reverse("clients:profile-export")).status_code == 404


def test_a_visitor_is_sent_to_the_login(client, records):
    response = client.get(PROFILE)
    assert response.status_code == 302 and response.url.startswith(reverse("account_login"))


def test_the_page_needs_the_same_queries_with_many_sessions_and_notifications(cast, records, login_as):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from portal.notifications.services import notify

    def more(count: int, start: int) -> None:
        for n in range(start, start + count):
            browser_logged_in(cast.client1, agent=FIREFOX, address=f"192.0.2.{n + 1}")
            notify(user=cast.client1, event="account.welcome", idempotency_key=f"many:{n}")

    def measured(client):
        client.get(PROFILE)  # what the changes made the cache forget is read again
        with CaptureQueriesContext(connection) as queries:
            response = client.get(PROFILE)
        return response, [q["sql"] for q in queries.captured_queries]

    client = login_as(cast.client1)
    more(1, 0)
    _response, few = measured(client)
    more(15, 1)
    response, many = measured(client)

    assert response.text.count('data-testid="session-row"') == 17
    assert len(few) <= 20
    assert len(many) == len(few), "\n".join(q[:120] for q in [*few, "-----", *many])


# --- contact data --------------------------------------------------------------------------------------


def test_the_client_changes_their_contact_data_and_it_is_audited(cast, records, login_as):
    anna, _bert = records

    response = login_as(cast.client1).post(reverse("clients:profile-contact"), CONTACT)

    assert response.status_code == 302 and response.url == PROFILE + "#contact"
    anna.refresh_from_db()
    assert (anna.street, anna.postcode, anna.city, anna.country) == ("Am Markt 3", "80331", "München", "DE")
    assert (anna.email, anna.phone) == ("anna.albers@example.com", "+49891234567")
    event = AuditEvent.objects.get(action="client.contact_updated")
    assert event.actor == cast.client1 and event.object_id == str(anna.pk)
    assert event.changes["city"] == ["Berlin", "München"]
    assert "street" in event.changes and "postcode" in event.changes


def test_saving_the_same_data_changes_nothing(cast, records, login_as):
    anna, _bert = records
    same = {name: getattr(anna, name) for name in CONTACT}

    login_as(cast.client1).post(reverse("clients:profile-contact"), same)

    assert not AuditEvent.objects.filter(action="client.contact_updated").exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "anna@", "Enter a valid e-mail address."),
        ("phone", "030 123456", "international format"),
        ("country", "Deutschland", "two-letter country code"),
        ("postcode", "<script>", "Enter a valid postcode."),
        ("city", "", "An address needs a street, postcode, city and country."),
        ("street", "x" * 201, "at most 200 characters"),
        ("city", "Berlin\x00", "not allowed"),
    ],
)
def test_bad_contact_data_is_refused_with_a_clear_message_and_changes_nothing(
    cast, records, login_as, field, value, message
):
    anna, _bert = records
    before = Client.objects.filter(pk=anna.pk).values().get()

    response = login_as(cast.client1).post(reverse("clients:profile-contact"), {**CONTACT, field: value})

    assert response.status_code == 400
    assert message in response.text
    assert Client.objects.filter(pk=anna.pk).values().get() == before
    assert not AuditEvent.objects.filter(action="client.contact_updated").exists()


def test_a_client_changes_only_their_own_record(cast, records, login_as):
    anna, bert = records
    login_as(cast.client2).post(reverse("clients:profile-contact"), {**CONTACT, "city": "Hamburg"})

    anna.refresh_from_db()
    bert.refresh_from_db()
    assert anna.city == "Berlin" and bert.city == "Hamburg"


# --- the mobile number ---------------------------------------------------------------------------------


def code_in(user) -> str:
    message = OutboxMessage.objects.filter(event=pv.SMS_EVENT, user=user).order_by("-id").first()
    return re.search(r"(?<!\d)\d{6}(?!\d)", dev_message_text(message=message)).group(0)


def test_the_client_changes_the_number_and_verifies_it_with_the_code(cast, records, login_as):
    client = login_as(cast.client1)

    response = client.post(
        reverse("clients:profile-mobile"), {"phone": "+49 151 9999 0007", "password": PASSWORD}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert 'data-testid="mobile-verify-form"' in response.text and "Not verified" in response.text
    user = User.objects.get(pk=cast.client1.pk)
    assert user.phone == "+4915199990007" and user.phone_verified_at is None

    response = client.post(
        reverse("clients:profile-mobile-verify"), {"code": code_in(cast.client1)}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    assert "Your mobile number is verified" in response.text
    assert 'data-testid="mobile-state">Verified<' in response.text
    assert User.objects.get(pk=cast.client1.pk).phone_verified_at is not None


def test_a_wrong_password_changes_no_number(cast, records, login_as):
    response = login_as(cast.client1).post(
        reverse("clients:profile-mobile"), {"phone": "+4915199990007", "password": "not-it"}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 400 and "This is not your password." in response.text
    user = User.objects.get(pk=cast.client1.pk)
    assert user.phone == "+4915112345001" and user.phone_verified_at is not None
    assert not OutboxMessage.objects.filter(event=pv.SMS_EVENT).exists()


def test_a_bad_number_is_refused_on_the_page(cast, records, login_as):
    response = login_as(cast.client1).post(
        reverse("clients:profile-mobile"), {"phone": "12345", "password": PASSWORD}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 400 and "international format" in response.text
    assert User.objects.get(pk=cast.client1.pk).phone == "+4915112345001"


def test_a_wrong_code_on_the_page_says_how_many_tries_are_left(cast, records, login_as):
    client = login_as(cast.client1)
    client.post(reverse("clients:profile-mobile"), {"phone": "+4915199990007", "password": PASSWORD})
    code = code_in(cast.client1)

    response = client.post(
        reverse("clients:profile-mobile-verify"),
        {"code": f"{(int(code) + 1) % 1_000_000:06d}"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 400 and "Wrong code. 4 tries left for this code." in response.text
    assert User.objects.get(pk=cast.client1.pk).phone_verified_at is None


def test_without_htmx_the_forms_answer_with_a_redirect_and_a_message(cast, records, login_as):
    client = login_as(cast.client1)
    client.post(reverse("clients:profile-mobile"), {"phone": "+4915199990007", "password": PASSWORD})

    response = client.post(reverse("clients:profile-mobile-code"), follow=True)

    assert response.redirect_chain[-1][0] == PROFILE + "#mobile"
    assert "A code was just sent." in response.text


def test_the_status_partial_follows_the_code_sms(cast, records, login_as):
    client = login_as(cast.client1)
    client.post(reverse("clients:profile-mobile"), {"phone": "+4915199990007", "password": PASSWORD})

    response = client.get(reverse("clients:profile-mobile-status"))

    assert 'data-delivery="pending"' in response.text and "hx-trigger" in response.text


# --- language ------------------------------------------------------------------------------------------


def test_the_language_is_stored_on_the_user_and_seen_by_the_next_session(cast, records, login_as):
    client = login_as(cast.client1)

    response = client.post(reverse("set_language"), {"language": "de", "next": PROFILE})

    assert response.status_code == 302 and response.url == PROFILE
    assert User.objects.get(pk=cast.client1.pk).language == "de"
    other = login(Browser(), User.objects.get(pk=cast.client1.pk))
    assert '<html lang="de">' in other.get(PROFILE).text


# --- sessions ------------------------------------------------------------------------------------------


def test_the_sessions_list_shows_each_device_and_address(cast, records):
    firefox = browser_logged_in(cast.client1, agent=FIREFOX, address="192.0.2.10")
    browser_logged_in(cast.client1, agent=SAFARI_IPHONE, address="198.51.100.7")

    page = firefox.get(PROFILE).text

    assert page.count('data-testid="session-row"') == 2
    assert "Firefox on Windows" in page and "192.0.2.10" in page
    assert "Safari on iPhone" in page and "198.51.100.7" in page
    current = re.search(r'data-current="true">\s*<td>([^<]*)', page).group(1)
    assert current.strip() == "Firefox on Windows"


def test_signing_out_everywhere_else_ends_the_other_session_at_its_next_request(cast, records):
    here = browser_logged_in(cast.client1, agent=FIREFOX, address="192.0.2.10")
    there = browser_logged_in(cast.client1, agent=SAFARI_IPHONE, address="198.51.100.7")
    assert there.get(PROFILE).status_code == 200

    response = here.post(reverse("clients:profile-sessions-end"), follow=True)

    assert "You were signed out of 1 other session." in response.text
    answer = there.get(PROFILE)
    assert answer.status_code == 302 and answer.url.startswith(reverse("account_login"))
    assert here.get(PROFILE).status_code == 200
    assert UserSession.objects.filter(user=cast.client1).count() == 1
    assert AuditEvent.objects.filter(action="auth.sessions_ended", actor=cast.client1).get().changes == {"ended": 1}


def test_signing_out_elsewhere_leaves_other_peoples_sessions_alone(cast, records):
    mine = browser_logged_in(cast.client1, agent=FIREFOX, address="192.0.2.10")
    theirs = browser_logged_in(cast.client2, agent=FIREFOX, address="192.0.2.11")

    mine.post(reverse("clients:profile-sessions-end"))

    assert theirs.get(PROFILE).status_code == 200


def test_a_session_ended_by_a_password_change_is_no_longer_listed(cast, records):
    here = browser_logged_in(cast.client1, agent=FIREFOX, address="192.0.2.10")
    browser_logged_in(cast.client1, agent=SAFARI_IPHONE, address="198.51.100.7")
    user = User.objects.get(pk=cast.client1.pk)
    user.set_password(PASSWORD)  # a new salt: a new session hash
    user.save()
    here.force_login(user)

    assert here.get(PROFILE).text.count('data-testid="session-row"') == 1


def test_a_sessions_activity_is_noted_at_most_once_a_minute(cast, records):
    browser = browser_logged_in(cast.client1, agent=FIREFOX, address="192.0.2.10")
    key = browser.cookies[settings.SESSION_COOKIE_NAME].value
    seen = UserSession.objects.get(session_id=key).last_seen_at

    browser.get(PROFILE)

    assert UserSession.objects.get(session_id=key).last_seen_at == seen


@pytest.mark.parametrize(
    ("agent", "label"),
    [
        (FIREFOX, "Firefox on Windows"),
        (SAFARI_IPHONE, "Safari on iPhone"),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 Edg/126.0",
            "Edge on macOS",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36",
            "Chrome on Android",
        ),
        ("curl/8.5.0", "Unknown browser"),
        ("", "Unknown browser"),
    ],
)
def test_devices_are_named_from_the_browser(agent, label):
    assert device_label(agent) == label
