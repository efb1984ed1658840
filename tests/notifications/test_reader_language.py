"""Notifications keep their event and parameters and speak the reader's language when shown: the in-app
list and the home page in the language of the page, an e-mail in the recipient's language when it is
sent. Rows written before parameters were kept still read as they were written."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from portal.accounts.roles import Role
from portal.notifications import services
from portal.notifications.delivery import outbox_message_deliver
from portal.notifications.models import Notification, OutboxMessage
from portal.notifications.params import Snapshot, params_freeze, params_thaw
from portal.notifications.registry import IN_APP, event_get, register_event
from signing.models import SignatureRequest
from tests.conftest import login
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def greta(db):
    """A partner agent who reads German (her role's home is the portal's generic one)."""
    return UserFactory(email="greta@example.com", first_name="Greta", language="de", roles=[Role.PARTNER_AGENT])


def request_to_sign(sender, recipient) -> SignatureRequest:
    return SignatureRequest.objects.create(
        kind=SignatureRequest.Kind.DOCUMENT,
        status=SignatureRequest.Status.SENT,
        sender=sender,
        recipient=recipient,
        title="Depot opening",
    )


def test_a_notification_written_in_german_shows_in_english_to_an_english_reader(greta, client):
    services.notify(user=greta, event="account.welcome")
    stored = Notification.objects.get(user=greta)
    assert stored.title == "Willkommen bei Partnerzone"  # written in her language of that moment

    greta.language = "en"
    greta.save(update_fields=["language"])
    html = login(client, greta).get(reverse("notifications:list")).content.decode()

    assert "Welcome to Partnerzone" in html and "Hello Greta, your Partnerzone account is ready." in html
    assert "Willkommen" not in html


def test_the_language_switch_changes_the_texts_of_the_list_and_the_home_page(greta, client):
    services.notify(user=greta, event="account.welcome")
    client = login(client, greta)
    assert "Willkommen bei Partnerzone" in client.get(reverse("notifications:list")).content.decode()

    client.post(reverse("set_language"), {"language": "ru", "next": "/"})
    russian = client.get(reverse("notifications:list")).content.decode()
    with translation.override("ru"):
        assert translation.gettext("Welcome to Partnerzone") in russian
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    home = client.get(reverse("shell:home"), follow=True).content.decode()
    assert 'data-testid="latest-notification">Welcome to Partnerzone<' in home


def test_a_choice_of_an_object_is_labelled_in_the_readers_language(cast):
    cast.client1.language = "en"
    signature = request_to_sign(cast.broker1, cast.client1)
    services.notify(
        user=cast.client1,
        event="signing.request_received",
        context={"request": signature, "sender_name": "Boris Brandt", "client_name": "Clara"},
    )
    notification = Notification.objects.get(user=cast.client1)
    assert notification.params["request"]["values"] == {"title": "Depot opening", "kind": "document"}
    assert notification.title_display == "Please sign: Depot opening"
    with translation.override("de"):
        assert notification.title_display == "Bitte unterschreiben: Depot opening"
        assert "(Dokument)" in notification.body_display


def test_the_texts_keep_what_was_true_when_written(cast):
    signature = request_to_sign(cast.broker1, cast.client1)
    services.notify(user=cast.client1, event="signing.request_received", context={"request": signature})
    SignatureRequest.objects.filter(pk=signature.pk).update(title="Renamed later")
    assert "Depot opening" in Notification.objects.get(user=cast.client1).title_display


def test_a_row_from_before_parameters_were_kept_reads_as_written(greta):
    old = Notification.objects.create(user=greta, event="account.welcome", title="Alte Nachricht", body="Text")
    assert old.params is None
    assert (old.title_display, old.body_display) == ("Alte Nachricht", "Text")


def test_a_notification_whose_event_is_gone_reads_as_written(greta, event_registry):
    services.notify(user=greta, event="account.welcome")
    event_registry._events.pop("account.welcome")
    notification = Notification.objects.get(user=greta)
    with translation.override("en"):
        assert notification.title_display == "Willkommen bei Partnerzone"


def test_the_email_is_rendered_in_the_recipients_language_when_it_is_sent(greta, settings):
    settings.PORTAL_EMAIL_TRANSPORT = "dev"
    services.notify(user=greta, event="account.welcome", link="/welcome/")
    message = OutboxMessage.objects.get(user=greta)
    assert message.subject == "Ihr Partnerzone-Konto ist eingerichtet"

    greta.language = "en"
    greta.save(update_fields=["language"])
    assert outbox_message_deliver(message_id=message.pk) == OutboxMessage.Status.SENT

    message.refresh_from_db()
    assert message.subject == "Your Partnerzone account is ready"
    assert message.body.startswith("Hello Greta, your Partnerzone account is ready.")
    assert message.body.endswith("/welcome/")
    assert message.dev_delivery.body == message.body  # what went out is what the row shows
    assert 'lang="en"' in message.html_body


def test_an_email_without_parameters_is_sent_as_written(greta, settings):
    settings.PORTAL_EMAIL_TRANSPORT = "dev"
    message = services.email_queue(to=greta.email, subject="Betreff", body="Genau so", user=greta)
    assert outbox_message_deliver(message_id=message.pk) == OutboxMessage.Status.SENT
    message.refresh_from_db()
    assert (message.subject, message.body) == ("Betreff", "Genau so")


def test_parameters_keep_amounts_dates_and_times_exactly(db, event_templates):
    event_templates("tests.kinds", title="t", body="{{ amount }} {{ day }} {{ moment }} {{ items }} {{ nested.a }}")
    register_event("tests.kinds", "Kinds", default_channels={IN_APP})
    moment = datetime(2026, 12, 7, 15, 5, tzinfo=ZoneInfo("UTC"))
    context = {
        "amount": Decimal("1234.50"),
        "day": date(2026, 9, 30),
        "moment": moment,
        "items": [1, "two"],
        "nested": {"a": Decimal("1.10")},
        "user": "never kept",
    }

    params = params_freeze(context, event_get("tests.kinds"))
    back = params_thaw(params)

    assert "user" not in params
    assert back["amount"] == Decimal("1234.50") and back["day"] == date(2026, 9, 30)
    assert back["moment"] == moment and back["moment"].tzinfo is not None
    assert back["items"] == [1, "two"] and back["nested"] == {"a": Decimal("1.10")}


def test_of_an_object_only_what_the_texts_read_is_kept(cast):
    signature = request_to_sign(cast.broker1, cast.client1)
    params = params_freeze({"request": signature}, event_get("signing.backoffice_received"))
    kept = params["request"]
    assert kept["$model"] == "signing.signaturerequest"
    assert set(kept["values"]) == {"title", "short_reference", "kind"}  # never the IBAN, the text, the hash
    snapshot = params_thaw(params)["request"]
    assert isinstance(snapshot, Snapshot) and str(snapshot) == str(signature)
    assert snapshot.short_reference == signature.short_reference
    with pytest.raises(AttributeError):
        snapshot.payee_iban  # noqa: B018


def test_the_unread_list_and_the_bell_count_stay_right(greta, client):
    services.notify(user=greta, event="account.welcome")
    client = login(client, greta)
    html = client.get(reverse("notifications:list"), {"unread": "1"}).content.decode()
    assert "Willkommen bei Partnerzone" in html
    marked = client.post(
        reverse("notifications:mark-read", args=[Notification.objects.get(user=greta).pk]), HTTP_HX_REQUEST="true"
    )
    assert "Willkommen bei Partnerzone" in marked.content.decode()
    assert Notification.objects.filter(user=greta, read_at__lte=timezone.now()).count() == 1


def test_the_bells_menu_lists_the_readers_own_unread_in_the_pages_language(greta, client):
    services.notify(user=greta, event="account.welcome", link="/welcome/")
    other = UserFactory(email="otto@example.com", language="en")
    services.notify(user=other, event="account.welcome")
    client = login(client, greta)

    menu = client.get(reverse("notifications:unread-menu")).content.decode()
    assert menu.count('data-testid="unread-notification"') == 1
    assert "Willkommen bei Partnerzone" in menu and 'href="/welcome/"' in menu

    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "Welcome to Partnerzone" in client.get(reverse("notifications:unread-menu")).content.decode()

    client.post(reverse("notifications:mark-all-read"))
    assert "No unread notifications." in client.get(reverse("notifications:unread-menu")).content.decode()


def test_the_bells_menu_needs_a_login(client):
    response = client.get(reverse("notifications:unread-menu"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
