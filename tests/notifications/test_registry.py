import pytest
from django.core import checks
from django.urls import reverse

from portal.notifications.models import OutboxMessage
from portal.notifications.registry import EMAIL, IN_APP, SMS, UnknownEvent, event_get, event_list, register_event


def test_the_foundation_events_are_registered_with_their_templates():
    keys = {e.key for e in event_list()}

    assert {"account.welcome", "security.2fa_enabled", "security.password_changed"} <= keys
    assert event_get("security.password_changed").channels == (IN_APP, EMAIL, SMS)
    assert event_get("account.welcome").channels == (IN_APP, EMAIL)  # no sms.txt: no SMS


def test_an_app_registers_an_event_that_can_go_out_by_sms_when_it_ships_sms_txt(db, event_templates):
    event_templates("tests.code", title="Code", body="Your code", sms="Code {{ code }}")

    event = register_event("tests.code", "Signing code", default_channels={SMS}, configurable=False)

    assert event_get("tests.code") is event
    assert event.supports_sms
    assert event.render("sms", {"code": "123456"}) == "Code 123456"
    assert "tests.code" not in {e.key for e in event_list(configurable_only=True)}


@pytest.mark.parametrize(
    ("key", "channels"),
    [("NoDot", {EMAIL}), ("tests.bad key", {EMAIL}), ("tests.fax", {"fax"})],
)
def test_a_malformed_event_is_refused(event_registry, key, channels):
    with pytest.raises(ValueError):
        register_event(key, "Bad", default_channels=channels)

    with pytest.raises(UnknownEvent):
        event_get(key)


def test_a_required_channel_is_always_among_the_defaults(event_registry):
    event = register_event("tests.notice", "Notice", default_channels={IN_APP}, required_channels={EMAIL})

    assert event.default_channels == {IN_APP, EMAIL}


def test_the_deploy_check_warns_when_the_dev_outbox_is_on_without_debug(settings):
    settings.DEBUG = False
    settings.PORTAL_DEV_OUTBOX = True

    messages = checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.security])

    assert "notifications.W001" in {m.id for m in messages}


def test_allauths_password_reset_mail_goes_through_the_outbox(client, cast):
    response = client.post(reverse("account_reset_password"), {"email": "client1@example.com"})

    assert response.status_code == 302
    [message] = OutboxMessage.objects.filter(recipient="client1@example.com")
    assert message.channel == "email"
    assert "password" in message.subject.lower()
    assert "/accounts/password/reset/key/" in message.body
