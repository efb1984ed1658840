"""Language and formats: English writes European dates and 24-hour times like German and Russian (no
"p.m.." after a time at the end of a sentence); sort options, the sign-in message and allauth's pages
speak the portal's words in the reader's language."""

import re
from datetime import date, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format, time_format

from intermediaries.filters import ClientFilter
from portal.accounts.roles import Role
from tests.factories import PASSWORD, UserFactory

BERLIN = ZoneInfo("Europe/Berlin")
AFTERNOON = datetime(2026, 12, 7, 15, 5, tzinfo=BERLIN)
NOON = datetime(2026, 12, 7, 12, 0, tzinfo=BERLIN)
DAY = date(2026, 12, 7)


@pytest.mark.parametrize(
    ("language", "short_date", "long_date", "short_datetime", "long_datetime"),
    [
        ("en", "07/12/2026", "7 December 2026", "07/12/2026 15:05", "7 December 2026, 15:05"),
        ("de", "07.12.2026", "7. Dezember 2026", "07.12.2026 15:05", "7. Dezember 2026 15:05"),
        ("ru", "07.12.2026", "7 декабря 2026 г.", "07.12.2026 15:05", "7 декабря 2026 г. 15:05"),
    ],
)
def test_dates_are_day_month_year_and_times_24_hour_in_every_language(
    language, short_date, long_date, short_datetime, long_datetime
):
    with translation.override(language), timezone.override(BERLIN):
        assert date_format(DAY, "SHORT_DATE_FORMAT") == short_date
        assert date_format(DAY) == long_date
        assert time_format(AFTERNOON) == "15:05"
        assert date_format(AFTERNOON, "SHORT_DATETIME_FORMAT") == short_datetime
        assert date_format(AFTERNOON, "DATETIME_FORMAT") == long_datetime
        # What a template shows for a bare date, a bare datetime and a time through the |date filter.
        rendered = Template('{{ day }}|{{ when }}|{{ when|date:"TIME_FORMAT" }}').render(
            Context({"day": DAY, "when": AFTERNOON})
        )
        assert rendered == f"{long_date}|{long_datetime}|15:05"


@pytest.mark.parametrize("language", ["en", "de", "ru"])
@pytest.mark.parametrize("fmt", ["TIME_FORMAT", "DATETIME_FORMAT", "SHORT_DATETIME_FORMAT"])
@pytest.mark.parametrize("moment", [AFTERNOON, NOON, datetime(2026, 12, 7, 0, 0, tzinfo=BERLIN)])
def test_no_time_ends_in_a_full_stop_so_a_sentence_never_doubles_it(language, fmt, moment):
    with translation.override(language), timezone.override(BERLIN):
        text = time_format(moment, fmt) if fmt == "TIME_FORMAT" else date_format(moment, fmt)
    assert not text.endswith("."), text
    assert "m." not in text  # no a.m. / p.m. at all


@pytest.mark.parametrize("language", ["en", "de", "ru"])
def test_a_sentence_ending_with_a_time_has_one_full_stop(language):
    code = SimpleNamespace(delivery="sent", in_flight=False, sent_at=AFTERNOON, valid_until=AFTERNOON)
    with translation.override(language), timezone.override(BERLIN):
        html = render_to_string("signing/partials/_code_status.html", {"code": code, "req": SimpleNamespace(pk=1)})
    assert "15:05" in html and ".." not in html


def test_english_forms_read_day_month_year_and_iso():
    from django import forms

    field = forms.DateField()
    with translation.override("en"):
        assert field.clean("07/12/2026") == DAY
        assert field.clean("2026-12-07") == DAY


# --- sort options -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "Name (descending)"), ("de", "Name (absteigend)"), ("ru", "Имя (по убыванию)")],
)
def test_the_client_lists_descending_sort_options_speak_the_pages_language(language, expected):
    ClientFilter()  # built once in one language …
    with translation.override(language):  # … and shown in another
        labels = [str(label) for _value, label in ClientFilter().filters["ordering"].field.choices]
    assert expected in labels


# --- sign-in message and allauth pages ----------------------------------------------------------


@pytest.mark.django_db
def test_the_signed_in_message_speaks_the_users_language_not_the_login_pages(client, settings):
    from portal.accounts.services import role_groups_ensure

    settings.PORTAL_REQUIRE_2FA = False  # the message comes once the login is complete
    role_groups_ensure()
    user = UserFactory(
        email="greta@example.com", first_name="Greta", last_name="Graf", language="de", roles=[Role.PARTNER_AGENT]
    )

    response = client.post(
        reverse("account_login"),
        {"login": user.email, "password": PASSWORD},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )

    html = response.content.decode()
    with translation.override("de"):
        expected = translation.gettext("You are signed in as %(name)s.") % {"name": "Greta Graf"}
    assert expected in html
    assert 'lang="de"' in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url_name", "title"),
    [
        ("account_logout", "Log out"),
        ("account_change_password", "Change password"),
        ("account_email", "E-mail addresses"),
    ],
)
def test_allauth_pages_carry_the_portals_titles(cast, login_as, url_name, title):
    html = login_as(cast.broker1).get(reverse(url_name)).content.decode()
    assert f"<title>{title} · Partnerzone</title>" in html
    assert re.search(rf">\s*{title}\s*</h1>", html)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url_name", "title"), [("account_reset_password", "Reset your password"), ("account_login", "Sign in")]
)
def test_allauth_pages_before_login_carry_the_portals_titles(client, url_name, title):
    html = client.get(reverse(url_name)).content.decode()
    assert f"<title>{title} · Partnerzone</title>" in html


@pytest.mark.django_db
def test_the_signed_out_message_speaks_the_language_of_the_anonymous_page_after(client):
    from portal.accounts.services import role_groups_ensure

    role_groups_ensure()
    user = UserFactory(email="greta@example.com", language="de", roles=[Role.PARTNER_AGENT])
    client.force_login(user)

    response = client.post(reverse("account_logout"), HTTP_ACCEPT_LANGUAGE="en", follow=True)

    html = response.content.decode()
    assert "You are signed out." in html and 'lang="en"' in html
