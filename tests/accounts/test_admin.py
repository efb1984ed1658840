"""Django admin needs a verified second factor, and its login goes through the portal's login."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from portal.accounts.roles import Role
from portal.audit.models import AuditEvent
from tests.conftest import otp_device_for

pytestmark = pytest.mark.django_db

ADMIN = reverse("admin:index")


def test_it_lets_a_verified_staff_session_into_admin(cast, client, login_as):
    login_as(cast.admin)

    response = client.get(ADMIN)

    assert response.status_code == 200


def test_it_refuses_admin_to_an_unverified_staff_session(cast, client, login_as):
    login_as(cast.admin, verified=False)

    response = client.get(ADMIN)

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:2fa-setup"))


def test_it_refuses_admin_without_second_factor_even_without_the_middleware(cast, client, login_as, settings):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != "portal.accounts.middleware.SecondFactorMiddleware"]
    otp_device_for(cast.admin)
    login_as(cast.admin, verified=False)

    response = client.get(ADMIN, follow=True)

    assert response.redirect_chain == [
        (f"{reverse('admin:login')}?next=/admin/", 302),
        (f"{reverse('accounts:2fa-verify')}?next=/admin/", 302),
    ]
    assert 'name="token"' in response.content.decode()


def test_it_lets_unverified_staff_into_admin_when_two_factor_is_not_required(cast, client, login_as, settings):
    settings.PORTAL_REQUIRE_2FA = False
    login_as(cast.admin, verified=False)

    response = client.get(ADMIN)

    assert response.status_code == 200


def test_it_refuses_admin_to_a_verified_user_who_is_not_staff(cast, client, login_as):
    login_as(cast.broker1)

    response = client.get(ADMIN, follow=True)

    assert response.status_code == 403


def test_it_sends_the_admin_login_to_the_portal_login(client, db):
    response = client.get(f"{reverse('admin:login')}?next=/admin/accounts/user/")

    assert response.status_code == 302
    assert response.url == "/accounts/login/?next=/admin/accounts/user/"


def test_it_does_not_send_admin_login_to_a_foreign_site(client, db):
    response = client.get(f"{reverse('admin:login')}?next=https://evil.example/")

    assert response.url == "/accounts/login/?next=/admin/"


def test_it_audits_a_role_change_made_in_admin(cast, client, login_as):
    login_as(cast.admin)
    user = cast.broker1
    manager = Group.objects.get(name=Role.FIRM_MANAGER)
    before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()

    response = client.post(
        reverse("admin:accounts_user_change", args=[user.pk]),
        {
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "phone": "",
            "language": "en",
            "organisation": user.organisation_id,
            "groups": [manager.pk],
            "is_active": "on",
            "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
            "_save": "Save",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    events = AuditEvent.objects.filter(action="auth.roles_changed", object_id=str(user.pk), id__gt=before)
    assert [(e.actor, e.changes) for e in events.order_by("id")] == [
        (cast.admin, {"removed": [Role.INTERMEDIARY]}),
        (cast.admin, {"added": [Role.FIRM_MANAGER]}),
    ]
