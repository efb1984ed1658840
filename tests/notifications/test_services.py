import pytest
from django.core.exceptions import ValidationError

from portal.notifications import selectors, services
from portal.notifications.models import Notification, NotificationPreference, OutboxMessage
from portal.notifications.registry import EMAIL, IN_APP, SMS, UnknownEvent
from tests.factories import UserFactory

Status = OutboxMessage.Status


class TestNotify:
    def test_it_stores_the_in_app_notification_and_an_email_by_the_event_defaults(self, anna, settings):
        settings.PORTAL_BASE_URL = "http://127.0.0.1:8123/"  # as `make demo PORT=8123` sets it
        result = services.notify(user=anna, event="account.welcome", link="/welcome/")

        notification = Notification.objects.get(user=anna)
        assert result.notification == notification
        assert notification.event == "account.welcome"
        assert notification.title == "Welcome to Partnerzone"
        assert "Hello Anna" in notification.body
        assert notification.link_url == "/welcome/"
        assert notification.read_at is None
        [email] = OutboxMessage.objects.filter(user=anna)
        assert (email.channel, email.recipient, email.status) == ("email", "anna@example.com", Status.PENDING)
        assert email.subject == "Your Partnerzone account is ready"
        assert "Hello Anna" in email.body
        assert "http://127.0.0.1:8123/welcome/" in email.body
        assert "Welcome to Partnerzone" in email.html_body
        assert 'href="http://127.0.0.1:8123/welcome/"' in email.html_body
        assert ":8000" not in email.body + email.html_body

    def test_it_sends_an_sms_only_when_the_user_asked_for_it(self, anna):
        services.preferences_update(user=anna, event="security.password_changed", in_app=False, email=True, sms=True)

        services.notify(user=anna, event="security.password_changed")

        assert not Notification.objects.filter(user=anna).exists()
        channels = dict(OutboxMessage.objects.filter(user=anna).values_list("channel", "recipient"))
        assert channels == {"email": "anna@example.com", "sms": "+4915112345678"}
        sms = OutboxMessage.objects.get(user=anna, channel="sms")
        assert sms.body.startswith("Partnerzone: your password was changed.")

    def test_a_required_channel_stays_on_whatever_the_stored_preference_says(self, anna):
        services.preferences_update(user=anna, event="security.2fa_enabled", in_app=False, email=True, sms=False)
        NotificationPreference.objects.filter(user=anna).update(email=False)  # a stale row cannot drop e-mail

        result = services.notify(user=anna, event="security.2fa_enabled")

        assert result.notification is None
        assert [m.channel for m in result.messages] == ["email"]

    def test_it_skips_sms_for_a_user_without_a_phone_even_if_the_preference_says_sms(self, ben):
        NotificationPreference.objects.create(user=ben, event="security.password_changed", sms=True)

        services.notify(user=ben, event="security.password_changed")

        assert list(OutboxMessage.objects.filter(user=ben).values_list("channel", flat=True)) == ["email"]

    def test_it_queues_delivery_only_after_the_commit(self, anna, django_capture_on_commit_callbacks, settings):
        settings.PORTAL_EMAIL_TRANSPORT = "dev"
        with django_capture_on_commit_callbacks() as callbacks:
            result = services.notify(user=anna, event="account.welcome")
            assert result.messages[0].status == Status.PENDING
        assert callbacks  # delivery waits for the commit
        assert OutboxMessage.objects.get(pk=result.messages[0].pk).status == Status.PENDING

        for callback in callbacks:  # the commit happened: the eager task delivers through the dev transport
            callback()

        email = OutboxMessage.objects.get(pk=result.messages[0].pk)
        assert email.status == Status.SENT
        assert email.provider_message_id == f"dev-{email.pk}"

    def test_it_stores_one_logical_notification_once_under_an_idempotency_key(self, anna):
        services.notify(user=anna, event="account.welcome", idempotency_key="welcome:anna")
        again = services.notify(user=anna, event="account.welcome", idempotency_key="welcome:anna")

        assert Notification.objects.filter(user=anna).count() == 1
        assert OutboxMessage.objects.filter(user=anna).count() == 1
        assert again.messages[0].idempotency_key == "welcome:anna:email"

    def test_it_renders_in_the_users_language_without_html_escaping(self, db, event_templates):
        event_templates(
            "tests.probe",
            title="{% load i18n %}{% get_current_language as lang %}[{{ lang }}] {{ firm }}",
            body="{{ firm }} & friends",
        )
        from portal.notifications.registry import register_event

        register_event("tests.probe", "Probe", default_channels={IN_APP, EMAIL})
        german = UserFactory(email="greta@example.com", language="de")

        result = services.notify(user=german, event="tests.probe", context={"firm": "Müller & Söhne <GmbH>"})

        assert result.notification.title == "[de] Müller & Söhne <GmbH>"
        assert result.messages[0].body == "Müller & Söhne <GmbH> & friends"
        assert result.messages[0].subject == "[de] Müller & Söhne <GmbH>"  # no subject.txt: the title
        assert "Müller &amp; Söhne &lt;GmbH&gt;" in result.messages[0].html_body

    def test_an_unknown_event_raises_and_writes_nothing(self, anna):
        with pytest.raises(UnknownEvent):
            services.notify(user=anna, event="nobody.registered_this")

        assert not Notification.objects.exists()
        assert not OutboxMessage.objects.exists()

    @pytest.mark.parametrize(
        "link", ["https://evil.example/", "//evil.example/", "/\\evil.example/", "javascript:alert(1)", "clients/1/"]
    )
    def test_a_link_outside_the_portal_is_refused_and_nothing_is_written(self, anna, link):
        with pytest.raises(ValueError):
            services.notify(user=anna, event="account.welcome", link=link)

        assert not Notification.objects.exists()
        assert not OutboxMessage.objects.exists()


class TestQueues:
    def test_email_queue_writes_a_pending_email_row(self, anna):
        message = services.email_queue(
            to="anna@example.com", subject="Reset\nyour password", body="Follow the link.", html_body="<p>Hi</p>"
        )

        message.refresh_from_db()
        assert (message.channel, message.status, message.attempts) == ("email", Status.PENDING, 0)
        assert message.subject == "Reset your password"
        assert message.html_body == "<p>Hi</p>"

    def test_sms_queue_writes_a_pending_sms_row_once_per_idempotency_key(self, anna):
        first = services.sms_queue(to="+4915112345678", body="Code 123456", user=anna, idempotency_key="sign:1")
        second = services.sms_queue(to="+4915112345678", body="Code 123456", user=anna, idempotency_key="sign:1")

        assert first.pk == second.pk
        assert OutboxMessage.objects.filter(channel="sms").count() == 1

    @pytest.mark.parametrize("to", ["", "015112345678", "+0151", "+49 151 12345678", "+49151123456789012"])
    def test_sms_queue_refuses_a_number_not_in_e164_and_writes_nothing(self, db, to):
        with pytest.raises(ValidationError) as error:
            services.sms_queue(to=to, body="Code 123456")

        assert error.value.code == "phone"
        assert not OutboxMessage.objects.exists()

    def test_email_queue_refuses_a_bad_address_and_writes_nothing(self, db):
        with pytest.raises(ValidationError):
            services.email_queue(to="not-an-address", subject="Hi", body="Hello")

        assert not OutboxMessage.objects.exists()


class TestReadState:
    def test_marking_read_sets_read_at_once(self, anna):
        notification = services.notify(user=anna, event="account.welcome").notification

        first = services.notification_mark_read(user=anna, notification_id=notification.pk)
        second = services.notification_mark_read(user=anna, notification_id=notification.pk)

        assert first.read_at is not None
        assert second.read_at == first.read_at

    def test_another_users_notification_cannot_be_marked_read(self, anna, ben):
        notification = services.notify(user=anna, event="account.welcome").notification

        with pytest.raises(Notification.DoesNotExist):
            services.notification_mark_read(user=ben, notification_id=notification.pk)

        notification.refresh_from_db()
        assert notification.read_at is None

    def test_mark_all_read_touches_only_the_users_unread_notifications(self, anna, ben):
        for _ in range(3):
            services.notify(user=anna, event="account.welcome")
        services.notify(user=ben, event="account.welcome")

        assert services.notification_mark_all_read(user=anna) == 3
        assert services.notification_mark_all_read(user=anna) == 0
        assert Notification.objects.filter(user=ben, read_at__isnull=True).count() == 1


class TestUnreadCount:
    """The header badge is cached; every way a user's notifications change shows at once."""

    def test_a_new_notification_counts_at_once(self, anna, django_assert_num_queries):
        assert selectors.notification_unread_count(user=anna) == 0
        with django_assert_num_queries(0):  # cached
            assert selectors.notification_unread_count(user=anna) == 0

        services.notify(user=anna, event="account.welcome")

        assert selectors.notification_unread_count(user=anna) == 1

    def test_marking_one_or_all_read_counts_at_once(self, anna):
        first = services.notify(user=anna, event="account.welcome").notification
        services.notify(user=anna, event="account.welcome")
        services.notify(user=anna, event="account.welcome")
        assert selectors.notification_unread_count(user=anna) == 3

        services.notification_mark_read(user=anna, notification_id=first.pk)
        assert selectors.notification_unread_count(user=anna) == 2

        services.notification_mark_all_read(user=anna)
        assert selectors.notification_unread_count(user=anna) == 0

    def test_a_deleted_notification_no_longer_counts(self, anna):
        notification = services.notify(user=anna, event="account.welcome").notification
        assert selectors.notification_unread_count(user=anna) == 1

        notification.delete()

        assert selectors.notification_unread_count(user=anna) == 0

    def test_each_user_has_their_own_count(self, anna, ben):
        services.notify(user=anna, event="account.welcome")
        assert selectors.notification_unread_count(user=anna) == 1
        assert selectors.notification_unread_count(user=ben) == 0

    def test_while_redis_is_down_the_count_stays_right(self, anna, settings, private_redis):
        from portal.core.cache import cache_settings

        settings.CACHES = cache_settings(private_redis.url)
        services.notify(user=anna, event="account.welcome")
        assert selectors.notification_unread_count(user=anna) == 1
        private_redis.stop()

        assert selectors.notification_unread_count(user=anna) == 1
        services.notification_mark_all_read(user=anna)
        assert selectors.notification_unread_count(user=anna) == 0


class TestPreferences:
    def test_a_preference_is_stored_per_user_and_event(self, anna):
        services.preferences_update(user=anna, event="security.2fa_enabled", in_app=False, email=True, sms=True)
        services.preferences_update(user=anna, event="security.2fa_enabled", in_app=True, email=True, sms=False)

        pref = NotificationPreference.objects.get(user=anna, event="security.2fa_enabled")
        assert (pref.in_app, pref.email, pref.sms) == (True, True, False)

    @pytest.mark.parametrize(
        ("event", "choice", "code"),
        [
            ("nobody.registered_this", {"in_app": True, "email": True, "sms": False}, "unknown_event"),
            ("account.welcome", {"in_app": True, "email": True, "sms": False}, "not_configurable"),
            ("security.password_changed", {"in_app": True, "email": False, "sms": False}, "required"),
        ],
    )
    def test_an_invalid_preference_is_refused_and_changes_nothing(self, anna, event, choice, code):
        with pytest.raises(ValidationError) as error:
            services.preferences_update(user=anna, event=event, **choice)

        assert [e.code for e in error.value.error_list] == [code]
        assert not NotificationPreference.objects.exists()

    def test_sms_without_a_phone_number_is_refused(self, ben):
        with pytest.raises(ValidationError) as error:
            services.preferences_update(user=ben, event="security.2fa_enabled", in_app=True, email=True, sms=True)

        assert error.value.error_list[0].code == "no_phone"
        assert not NotificationPreference.objects.exists()

    def test_setting_several_events_saves_all_or_none(self, ben):
        with pytest.raises(ValidationError):
            services.preferences_set(
                user=ben,
                choices={
                    "security.2fa_enabled": {"in_app": False, "email": True, "sms": False},
                    "security.password_changed": {"in_app": True, "email": True, "sms": True},
                },
            )

        assert not NotificationPreference.objects.exists()


def test_channels_fall_back_to_the_event_defaults(anna):
    from portal.notifications.registry import event_get

    channels = selectors.notification_channels(user=anna, event=event_get("security.2fa_enabled"))

    assert channels == {IN_APP, EMAIL}
    assert SMS not in channels
