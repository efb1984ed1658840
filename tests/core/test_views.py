import pytest
from django.urls import reverse

from portal.accounts.roles import Role

pytestmark = pytest.mark.django_db


def test_brokers_and_managers_land_on_the_broker_dashboard(cast, login_as):
    for who in ("broker1", "manager"):
        response = login_as(getattr(cast, who)).get(reverse("shell:home"))
        assert response["Location"] == reverse("intermediaries:dashboard")


def test_end_clients_land_in_the_client_zone(cast, login_as):
    response = login_as(cast.client1).get(reverse("shell:home"))
    assert response["Location"] == reverse("clients:home")


@pytest.mark.parametrize(
    ("who", "role"),
    [
        ("backoffice", Role.BACKOFFICE),
        ("partner", Role.PARTNER_AGENT),
        ("merchant", Role.MERCHANT),
    ],
)
def test_it_sends_each_role_to_its_own_home(cast, login_as, who, role):
    client = login_as(getattr(cast, who))
    response = client.get(reverse("shell:home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("shell:role-home", kwargs={"role": role})
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert str(Role(role).label) in page.content.decode()


@pytest.mark.parametrize(
    ("who", "foreign_role"),
    [
        ("broker1", Role.BACKOFFICE),
        ("broker1", Role.CLIENT),
        ("client1", Role.INTERMEDIARY),
        ("client1", Role.FIRM_MANAGER),
        ("manager", Role.BACKOFFICE),
        ("outsider", Role.CLIENT),
        ("merchant", Role.INTERMEDIARY),
    ],
)
def test_it_refuses_another_roles_home(cast, login_as, who, foreign_role):
    response = login_as(getattr(cast, who)).get(reverse("shell:role-home", kwargs={"role": foreign_role}))
    assert response.status_code == 403
    assert "Access denied" in response.content.decode()


def test_it_answers_404_for_a_role_that_does_not_exist(cast, login_as):
    response = login_as(cast.broker1).get("/home/superhero/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_it_sends_anonymous_visitors_to_the_login_page(client):
    response = client.get(reverse("shell:role-home", kwargs={"role": Role.INTERMEDIARY}))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_it_shows_a_user_without_role_the_welcome_page(cast, login_as):
    response = login_as(cast.outsider).get(reverse("shell:home"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("shell:welcome")
    assert "no role yet" in response.content.decode()


def test_back_office_navigation_has_the_audit_trail_and_broker_navigation_does_not(cast, login_as):
    audit_url = reverse("admin:audit_auditevent_changelist")
    staff_page = login_as(cast.backoffice).get(reverse("shell:role-home", kwargs={"role": Role.BACKOFFICE}))
    assert audit_url in staff_page.content.decode()
    broker_page = login_as(cast.broker1).get(reverse("intermediaries:dashboard"))
    assert audit_url not in broker_page.content.decode()


def test_the_menu_follows_a_role_change_at_once(cast, login_as):
    from django.contrib.auth.models import Group

    dashboard = reverse("intermediaries:dashboard")
    any_page = reverse("notifications:list")
    outsider = login_as(cast.outsider)
    assert f'href="{dashboard}"' not in outsider.get(any_page).content.decode()

    cast.outsider.groups.add(Group.objects.get(name=Role.INTERMEDIARY))

    assert f'href="{dashboard}"' in outsider.get(any_page).content.decode()


def test_every_page_carries_the_security_headers(cast, login_as):
    response = login_as(cast.broker1).get(reverse("shell:role-home", kwargs={"role": Role.INTERMEDIARY}), secure=True)
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert len(response["X-Request-ID"]) >= 8


def test_a_trusted_request_id_is_kept_and_a_bad_one_replaced(client):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="abcdef123456")["X-Request-ID"] == "abcdef123456"
    assert client.get("/healthz", HTTP_X_REQUEST_ID="bad id; drop table")["X-Request-ID"] != "bad id; drop table"


def test_the_login_page_works_without_a_session(client):
    response = client.get(reverse("account_login"))
    assert response.status_code == 200
    assert 'name="login"' in response.content.decode()


def test_switching_the_language_translates_the_page_and_is_remembered(cast, login_as):
    client = login_as(cast.client1)
    response = client.post(reverse("set_language"), {"language": "de", "next": "/"}, follow=True)
    assert response.status_code == 200
    assert '<html lang="de">' in response.content.decode()
    cast.client1.refresh_from_db()
    assert cast.client1.language == "de"


def test_an_unknown_language_changes_nothing(cast, login_as):
    client = login_as(cast.client1)
    client.post(reverse("set_language"), {"language": "xx", "next": "/"})
    cast.client1.refresh_from_db()
    assert cast.client1.language == "en"


def test_a_user_reads_the_portal_in_their_stored_language(cast, login_as):
    cast.client3.language = "ru"
    cast.client3.save()
    response = login_as(cast.client3).get(reverse("shell:role-home", kwargs={"role": "client"}))
    assert '<html lang="ru">' in response.content.decode()
