"""Who is stopped before the second factor, and where they are sent."""

import pytest
from django.urls import reverse

from tests.conftest import otp_device_for

pytestmark = pytest.mark.django_db

SETUP = reverse("accounts:2fa-setup")
VERIFY = reverse("accounts:2fa-verify")


def test_it_sends_a_broker_without_device_to_setup(cast, client, login_as):
    login_as(cast.broker1, verified=False)

    response = client.get("/notifications/?page=2")

    assert response.status_code == 302
    assert response.url == f"{SETUP}?next=%2Fnotifications%2F%3Fpage%3D2"


def test_it_sends_staff_without_device_to_setup(cast, client, login_as):
    login_as(cast.backoffice, verified=False)

    response = client.get("/")

    assert response.url.startswith(SETUP)


def test_it_lets_a_broker_in_when_two_factor_is_not_required(cast, client, login_as, settings):
    settings.PORTAL_REQUIRE_2FA = False
    login_as(cast.broker1, verified=False)

    response = client.get(reverse("accounts:security"))

    assert response.status_code == 200


def test_it_does_not_force_an_end_client_to_enrol(cast, client, login_as):
    login_as(cast.client1, verified=False)

    response = client.get(reverse("accounts:security"))

    assert response.status_code == 200
    assert "Set up authenticator app" in response.content.decode()


def test_it_asks_a_client_with_a_device_for_the_code(cast, client, login_as):
    otp_device_for(cast.client1)
    login_as(cast.client1, verified=False)

    response = client.get("/")

    assert response.url == f"{VERIFY}?next=%2F"


def test_it_answers_api_calls_with_json_403(cast, client, login_as):
    otp_device_for(cast.broker1)
    login_as(cast.broker1, verified=False)

    response = client.get("/api/v1/me/")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "second_factor_required"


def test_it_turns_htmx_requests_into_a_full_page_redirect(cast, client, login_as):
    login_as(cast.broker1, verified=False)

    response = client.get("/notifications/", headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(SETUP)


def test_it_sends_a_post_back_to_home_after_verification(cast, client, login_as):
    otp_device_for(cast.broker1)
    login_as(cast.broker1, verified=False)

    response = client.post("/notifications/")

    assert response.url == f"{VERIFY}?next=%2F"


def test_it_lets_a_half_logged_in_user_reach_the_code_page(cast, client, login_as):
    otp_device_for(cast.broker1)
    login_as(cast.broker1, verified=False)

    response = client.get(VERIFY)

    assert response.status_code == 200


def test_it_lets_a_half_logged_in_user_reach_the_health_check(cast, client, login_as):
    login_as(cast.broker1, verified=False)

    response = client.get("/healthz")

    assert "checks" in response.json()


def test_it_lets_a_half_logged_in_user_log_out(cast, client, login_as):
    otp_device_for(cast.broker1)
    login_as(cast.broker1, verified=False)

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
