"""The role cast and login helpers every test can use.

The cast mirrors the demo: two firms with brokers, a firm manager, clients, a partner,
a merchant, back-office staff, a superuser and an outsider with no role at all, so that
cross-tenant denial is a one-liner on every view and endpoint.
"""

import os
from types import SimpleNamespace

import pytest
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.accounts.models import Organisation
from portal.accounts.roles import Role
from portal.accounts.services import audit_trail_readers_grant, role_groups_ensure

from .factories import OrganisationFactory, PhoneVerifiedUserFactory, UserFactory

# The loopback fakes (Twilio, SMTP), a private redis-server and a real Celery worker, for every test.
pytest_plugins = ["tests.fakes.fixtures"]


def pytest_collection_modifyitems(config, items):
    """On SQLite (the embedded default) leave out what only PostgreSQL can do, and say so.

    SQLite allows one writer at a time, so parallel-request tests cannot run there; CI runs the
    whole suite on PostgreSQL.
    """
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    postgres_only = [item for item in items if item.get_closest_marker("postgres_only")]
    if postgres_only:
        items[:] = [item for item in items if not item.get_closest_marker("postgres_only")]
        config.hook.pytest_deselected(items=postgres_only)
        print(f"\nSQLite: {len(postgres_only)} PostgreSQL-only tests not collected (set DATABASE_URL to run them).")


def otp_device_for(user) -> TOTPDevice:
    device, _ = TOTPDevice.objects.get_or_create(user=user, name="test", defaults={"confirmed": True})
    return device


def login(client, user, *, verified: bool = True):
    """Log `user` in on the test client; `verified` also completes the second factor."""
    client.force_login(user)
    if verified:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = otp_device_for(user).persistent_id
        session.save()
    return client


@pytest.fixture(scope="session", autouse=True)
def _flush_past_the_audit_guard():
    """Transactional tests end with Django's flush: one TRUNCATE of every table, which the audit
    trail's statement trigger refuses on PostgreSQL (portal/audit/migrations/0003). The test
    database's flush runs with triggers off instead (session_replication_role = replica, which only
    a superuser such as the tests' `postgres` may set); nothing outside tests flushes.
    """
    from django.db.backends.postgresql.operations import DatabaseOperations

    sql_flush = DatabaseOperations.sql_flush

    def sql_flush_with_triggers_off(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = sql_flush(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        return ["SET LOCAL session_replication_role = replica", *statements] if statements else statements

    DatabaseOperations.sql_flush = sql_flush_with_triggers_off
    yield
    DatabaseOperations.sql_flush = sql_flush


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Production hashing costs ~0.3 s a password; tests create dozens of users."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _default_language():
    """A request leaves its language active in the thread (as Django's own middleware does); tests start in English."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.activate("en")


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Cached figures and counts are keyed by primary keys, which a rolled-back test may hand out again.

    A Redis outage in one test (the circuit of this process open) must not reach the next one.
    """
    from django.core.cache import cache

    from portal.core.cache import redis_circuit

    redis_circuit().reset()
    cache.clear()
    yield
    redis_circuit().reset()


@pytest.fixture(autouse=True)
def _role_groups_after_flush(request, django_db_blocker):
    """A transactional test empties every table when it ends; the tests after it need the role groups."""
    yield
    marker = request.node.get_closest_marker("django_db")
    transactional = {"transactional_db", "live_server"} & set(request.fixturenames) or (
        marker is not None and marker.kwargs.get("transaction")
    )
    if transactional:
        with django_db_blocker.unblock():
            role_groups_ensure()
            audit_trail_readers_grant()


@pytest.fixture
def cast(db):
    # Transactional tests flush every table, the role groups of the data migration included.
    role_groups_ensure()
    audit_trail_readers_grant()
    alpha = OrganisationFactory(name="Alpha Invest")
    beta = OrganisationFactory(name="Beta Capital")
    partner_org = OrganisationFactory(name="Gamma Partners", kind=Organisation.Kind.PARTNER)
    shop = OrganisationFactory(name="Delta Shop", kind=Organisation.Kind.MERCHANT)
    return SimpleNamespace(
        alpha=alpha,
        beta=beta,
        admin=UserFactory(email="admin@example.com", is_staff=True, is_superuser=True, roles=[Role.BACKOFFICE]),
        backoffice=UserFactory(email="backoffice@example.com", is_staff=True, roles=[Role.BACKOFFICE]),
        manager=UserFactory(email="manager@example.com", organisation=alpha, roles=[Role.FIRM_MANAGER]),
        broker1=UserFactory(email="broker1@example.com", organisation=alpha, roles=[Role.INTERMEDIARY]),
        broker2=UserFactory(email="broker2@example.com", organisation=alpha, roles=[Role.INTERMEDIARY]),
        broker3=UserFactory(email="broker3@example.com", organisation=beta, roles=[Role.INTERMEDIARY]),
        client1=PhoneVerifiedUserFactory(email="client1@example.com", phone="+4915112345001", roles=[Role.CLIENT]),
        client2=PhoneVerifiedUserFactory(email="client2@example.com", phone="+4915112345002", roles=[Role.CLIENT]),
        client3=PhoneVerifiedUserFactory(email="client3@example.com", phone="+4915112345003", roles=[Role.CLIENT]),
        partner=UserFactory(email="partner@example.com", organisation=partner_org, roles=[Role.PARTNER_AGENT]),
        merchant=UserFactory(email="merchant@example.com", organisation=shop, roles=[Role.MERCHANT]),
        outsider=UserFactory(email="outsider@example.com"),
    )


@pytest.fixture
def login_as(client):
    """`login_as(user)` returns the test client logged in as that user with a verified second factor."""

    def _login(user, *, verified: bool = True):
        client.logout()
        return login(client, user, verified=verified)

    return _login


# Browser tests anywhere in the suite use Debian's Chromium, never a downloaded browser.
CHROMIUM = "/usr/bin/chromium"


def chromium_missing() -> str:
    """What a newcomer without Chromium must do (the same words as `make check-chromium`); "" when it is there."""
    if os.access(CHROMIUM, os.X_OK):
        return ""
    return (
        f"The browser tests need Debian's Chromium at {CHROMIUM}, and it is missing.\n"
        "Install it with: sudo apt-get install -y chromium   (.ci/run installs it for CI)\n"
        "or leave the browser tests out with: -m 'not e2e'"
    )


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # A browser test outside tests/e2e, run on its own, fails with the same words (never a skip).
    if missing := chromium_missing():
        pytest.fail(missing, pytrace=False)
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "en-GB", "viewport": {"width": 1280, "height": 900}}
