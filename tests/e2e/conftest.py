"""Browser journeys: Playwright drives Debian's Chromium against pytest-django's live server."""

import io

import pytest
from django.core.management import call_command

from portal.accounts.services import role_groups_ensure
from tests import conftest as root


@pytest.hookimpl(trylast=True)  # after -m and -k have left out what will not run
def pytest_collection_modifyitems(config, items):
    """Without Debian's Chromium the run stops before the first test, saying how to install it (never a skip)."""
    if any(item.get_closest_marker("e2e") for item in items) and (missing := root.chromium_missing()):
        raise pytest.UsageError(missing)


@pytest.fixture
def portal_url(live_server):
    return live_server.url


@pytest.fixture
def demo(live_server, settings, tmp_path):
    """The demo data as `make demo PORT=…` makes it, with the live server's address for every link;
    returns what `manage.py demo` printed."""
    settings.DEBUG = True  # as `make demo`: the dev outbox, Django's debug 404
    settings.PORTAL_DEV_OUTBOX = True
    settings.PORTAL_REQUIRE_2FA = False
    settings.PORTAL_SMS_TRANSPORT = settings.PORTAL_EMAIL_TRANSPORT = "dev"
    settings.PORTAL_BASE_URL = live_server.url
    settings.MEDIA_ROOT = tmp_path / "media"
    role_groups_ensure()
    out = io.StringIO()
    call_command("demo", stdout=out)
    return out.getvalue()


def log_in(page, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign In").click()


# The broker workspace journeys use the same valued book as the workspace tests.
from tests.intermediaries.conftest import market, workspace  # noqa: E402, F401
