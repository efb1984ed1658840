import pytest
from django.urls import reverse

from portal.notifications import delivery, services
from portal.notifications.models import DevDelivery, Notification, NotificationPreference, OutboxMessage

LIST = reverse("notifications:list")
PREFERENCES = reverse("notifications:preferences")
DEV_OUTBOX = reverse("notifications:dev-outbox")


def mark_read_url(notification):
    return reverse("notifications:mark-read", args=[notification.pk])


def welcome(user, n=1):
    return [services.notify(user=user, event="account.welcome").notification for _ in range(n)]


class TestNotificationList:
    def test_it_shows_only_the_users_own_notifications(self, cast, login_as):
        welcome(cast.client1)
        services.notify(user=cast.client2, event="security.2fa_enabled")

        response = login_as(cast.client1).get(LIST)

        assert response.status_code == 200
        assert [n.user for n in response.context["page"]] == [cast.client1]
        assert "Welcome to Partnerzone" in response.text
        assert "Two-factor authentication switched on" not in response.text

    def test_it_filters_unread_and_paginates(self, cast, login_as):
        notifications = welcome(cast.broker1, 25)
        services.notification_mark_read(user=cast.broker1, notification_id=notifications[0].pk)
        client = login_as(cast.broker1)

        unread = client.get(LIST, {"unread": "1"})
        second_page = client.get(LIST, {"page": "2"})
        bad_page = client.get(LIST, {"page": "abc"})

        assert unread.context["page"].paginator.count == 24
        assert len(second_page.context["page"].object_list) == 5
        assert bad_page.status_code == 200 and bad_page.context["page"].number == 1

    def test_an_anonymous_visitor_is_sent_to_the_login(self, client, db):
        response = client.get(LIST)

        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))

    @pytest.mark.parametrize("count", [5, 50])
    def test_the_list_needs_a_bounded_number_of_queries(self, cast, login_as, django_assert_max_num_queries, count):
        welcome(cast.broker1, count)
        client = login_as(cast.broker1)

        with django_assert_max_num_queries(7):
            response = client.get(LIST)

        assert response.status_code == 200
        assert len(response.context["page"].object_list) == min(count, 20)


class TestMarkRead:
    def test_the_owner_marks_a_notification_read_and_is_sent_back_to_the_list(self, cast, login_as):
        [notification] = welcome(cast.client1)

        response = login_as(cast.client1).post(mark_read_url(notification))

        assert response.status_code == 302 and response.url == LIST
        notification.refresh_from_db()
        assert notification.read_at is not None

    def test_htmx_gets_the_updated_item_as_a_partial(self, cast, login_as):
        [notification] = welcome(cast.client1)

        response = login_as(cast.client1).post(mark_read_url(notification), headers={"HX-Request": "true"})

        assert response.status_code == 200
        assert response.templates[0].name == "notifications/partials/_notification.html"
        assert f'id="notification-{notification.pk}"' in response.text
        assert "data-unread" not in response.text
        assert "<html" not in response.text

    def test_another_users_notification_does_not_exist_for_you(self, cast, login_as):
        [notification] = welcome(cast.client1)

        response = login_as(cast.client2).post(mark_read_url(notification))

        assert response.status_code == 404
        notification.refresh_from_db()
        assert notification.read_at is None

    def test_marking_read_needs_a_post(self, cast, login_as):
        [notification] = welcome(cast.client1)

        response = login_as(cast.client1).get(mark_read_url(notification))

        assert response.status_code == 405
        notification.refresh_from_db()
        assert notification.read_at is None

    def test_mark_all_read_leaves_other_users_alone(self, cast, login_as):
        welcome(cast.client1, 3)
        welcome(cast.client2, 2)

        response = login_as(cast.client1).post(reverse("notifications:mark-all-read"), follow=True)

        assert "3 notifications marked as read." in response.text
        assert not Notification.objects.filter(user=cast.client1, read_at__isnull=True).exists()
        assert Notification.objects.filter(user=cast.client2, read_at__isnull=True).count() == 2


class TestPreferences:
    def test_the_page_shows_a_row_per_configurable_event_with_the_defaults_ticked(self, cast, login_as):
        response = login_as(cast.client1).get(PREFERENCES)

        assert response.status_code == 200
        events = [row["event"].key for row in response.context["table"]]
        assert {"security.2fa_enabled", "security.password_changed"} <= set(events)
        assert "account.welcome" not in events  # not configurable
        form = response.context["form"]
        assert form["security.2fa_enabled__in_app"].initial is True
        assert form["security.2fa_enabled__sms"].initial is False
        assert form["security.2fa_enabled__email"].field.disabled  # security mail cannot be switched off

    def test_saving_stores_the_choices(self, cast, login_as):
        response = login_as(cast.client1).post(
            PREFERENCES,
            {"security.2fa_enabled__sms": "on", "security.password_changed__in_app": "on"},
        )

        assert response.status_code == 302
        prefs = {p.event: (p.in_app, p.email, p.sms) for p in NotificationPreference.objects.filter(user=cast.client1)}
        assert prefs["security.2fa_enabled"] == (False, True, True)
        assert prefs["security.password_changed"] == (True, True, False)

    def test_each_role_sets_only_the_events_it_can_receive(self, cast, login_as):
        def keys(user):
            return {row["event"].key for row in login_as(user).get(PREFERENCES).context["table"]}

        assert "signing.request_received" in keys(cast.client1)
        assert "signing.request_signed" not in keys(cast.client1)
        assert "signing.request_signed" in keys(cast.broker1)
        assert "signing.request_received" not in keys(cast.broker1)

    def test_another_roles_event_cannot_be_set_by_a_forged_post(self, cast, login_as):
        login_as(cast.client1).post(PREFERENCES, {"signing.request_signed__sms": "on"})
        assert not NotificationPreference.objects.filter(user=cast.client1, event="signing.request_signed").exists()

    def test_sms_without_a_phone_number_is_refused_with_a_clear_error_and_nothing_is_saved(self, cast, login_as):
        response = login_as(cast.broker1).post(
            PREFERENCES, {"security.2fa_enabled__sms": "on", "security.password_changed__in_app": "on"}
        )

        assert response.status_code == 400
        assert "add a mobile phone number to your profile to receive SMS" in response.text
        assert not NotificationPreference.objects.exists()

    def test_a_forged_post_cannot_switch_off_a_required_channel_or_add_unknown_events(self, cast, login_as):
        response = login_as(cast.client1).post(
            PREFERENCES, {"security.2fa_enabled__email": "", "tests.forged__email": "on"}
        )

        assert response.status_code == 302
        assert NotificationPreference.objects.get(user=cast.client1, event="security.2fa_enabled").email is True
        assert not NotificationPreference.objects.filter(event="tests.forged").exists()

    def test_the_page_follows_the_browser_language(self, cast, login_as):
        response = login_as(cast.client1).get(PREFERENCES, headers={"accept-language": "de"})

        assert response.status_code == 200
        assert 'lang="de"' in response.text


@pytest.fixture
def dev_outbox_on(settings):
    settings.DEBUG = True
    settings.PORTAL_DEV_OUTBOX = True
    return settings


def messages_for_two_clients(cast):
    """client1 by user, by e-mail and by phone; client2 by user; one nobody's."""
    return {
        "mail": services.email_queue(to="client1@example.com", subject="Reset your password", body="Follow the link"),
        "code": services.sms_queue(to="+4915112345001", body="Your signing code is 123456"),
        "notice": services.sms_queue(to="+4915100000001", body="For client1 by user", user=cast.client1),
        "other": services.sms_queue(to="+4915112345002", body="Code of client2", user=cast.client2),
        "nobody": services.email_queue(to="someone@example.com", subject="Someone else", body="Not yours"),
    }


class TestDevOutbox:
    def test_it_does_not_exist_when_disabled(self, login_as, settings, cast):
        settings.DEBUG = True
        settings.PORTAL_DEV_OUTBOX = False

        assert login_as(cast.admin).get(DEV_OUTBOX).status_code == 404

    def test_it_does_not_exist_with_debug_off_whatever_the_flag_says(self, client, login_as, settings, cast):
        settings.DEBUG = False
        settings.PORTAL_DEV_OUTBOX = True

        assert client.get(DEV_OUTBOX).status_code == 404
        assert login_as(cast.admin).get(DEV_OUTBOX).status_code == 404
        assert "Dev outbox" not in login_as(cast.client1).get(LIST).text

    def test_it_sends_a_visitor_to_the_login_first(self, client, dev_outbox_on, cast):
        messages_for_two_clients(cast)

        response = client.get(DEV_OUTBOX, {"channel": "sms"})

        assert response.status_code == 302
        assert response["Location"] == f"{reverse('account_login')}?next=/notifications/dev-outbox/%3Fchannel%3Dsms"

    def test_a_user_sees_only_messages_addressed_to_them(self, login_as, dev_outbox_on, cast):
        sent = messages_for_two_clients(cast)

        response = login_as(cast.client1).get(DEV_OUTBOX)

        assert response.status_code == 200
        assert {m.pk for m in response.context["page"]} == {sent["mail"].pk, sent["code"].pk, sent["notice"].pk}
        assert "Your signing code is 123456" in response.text
        assert "Code of client2" not in response.text and "Not yours" not in response.text
        assert "Dev outbox" in response.text  # the menu link

    def test_a_user_without_e_mail_or_phone_matches_nothing_by_recipient(self, login_as, dev_outbox_on, cast):
        messages_for_two_clients(cast)
        cast.outsider.email, cast.outsider.phone = "", ""
        cast.outsider.save()
        services.sms_queue(to="+4915100000009", body="Empty recipient test", user=None)

        response = login_as(cast.outsider).get(DEV_OUTBOX)

        assert response.status_code == 200
        assert response.context["page"].paginator.count == 0

    def test_staff_see_every_message_newest_first(self, login_as, dev_outbox_on, cast):
        sent = messages_for_two_clients(cast)

        response = login_as(cast.backoffice).get(DEV_OUTBOX)

        assert [m.pk for m in response.context["page"]] == [m.pk for m in reversed(sent.values())]
        assert "Not yours" in response.text and "Code of client2" in response.text
        assert response.text.count('data-testid="outbox-message"') == 5

    def test_a_code_shows_once_delivered_and_is_masked_when_its_owner_destroys_it(
        self, login_as, dev_outbox_on, cast, django_capture_on_commit_callbacks
    ):
        dev_outbox_on.PORTAL_SMS_TRANSPORT = "dev"
        with django_capture_on_commit_callbacks(execute=False):
            waiting = services.sms_queue(to="+4915112345001", body="Your code: ⟦secret⟧", secret="482913")
        client = login_as(cast.client1)

        assert "Your code: ••••••" in client.get(DEV_OUTBOX).text  # not delivered yet: the provider has nothing

        delivery.outbox_message_deliver(message_id=waiting.pk)
        assert "Your code: 482913" in client.get(DEV_OUTBOX).text

        services.outbox_secret_destroy(message_ids=[waiting.pk])
        page = client.get(DEV_OUTBOX).text
        assert "Your code: ••••••" in page and "482913" not in page

    def test_it_filters_by_channel_and_shows_an_error_for_a_bad_filter(self, login_as, dev_outbox_on, cast):
        services.email_queue(to="a@example.com", subject="Mail", body="Mail body")
        services.sms_queue(to="+4915112345001", body="Code 1")
        client = login_as(cast.backoffice)

        sms_only = client.get(DEV_OUTBOX, {"channel": "sms"})
        bad = client.get(DEV_OUTBOX, {"channel": "pigeon"})

        assert [m.channel for m in sms_only.context["page"]] == ["sms"]
        assert bad.status_code == 200
        assert bad.context["form"].errors["channel"]
        assert bad.context["page"].paginator.count == 2

    @pytest.mark.parametrize("rows", [5, 40])
    def test_it_needs_a_bounded_number_of_queries(
        self, login_as, dev_outbox_on, cast, rows, django_assert_max_num_queries
    ):
        messages = OutboxMessage.objects.bulk_create(
            OutboxMessage(channel="sms", recipient="+4915112345001", body=f"Code {i}") for i in range(rows)
        )
        DevDelivery.objects.bulk_create(DevDelivery(message=m, body=f"Delivered {m.pk}") for m in messages[::2])
        client = login_as(cast.client1)

        with django_assert_max_num_queries(8):  # one of them prefetches the page's attachments
            response = client.get(DEV_OUTBOX)

        assert response.status_code == 200
        assert response.text.count("Delivered ") == min(rows, 20) // 2 + min(rows, 20) % 2
