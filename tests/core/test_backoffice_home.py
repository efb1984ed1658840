"""The back office's home: what waits for them, counted by the apps that own it (portal.core.work), and a
link to every tool they may use. The audit trail and the outbox open for them; approving a statement
says before the click that it needs a second factor."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.management.sql import emit_post_migrate_signal
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from commissions.models import Statement
from commissions.services import STATEMENT_KIND
from portal.accounts.roles import Role
from portal.approvals.services import approval_request
from portal.core import work
from reports.models import Report
from signing.inbox import signed_request_inbox_open
from signing.models import SignatureRequest

pytestmark = pytest.mark.django_db

STATEMENTS = reverse("admin:commissions_statement_changelist")
HOME = reverse("shell:role-home", kwargs={"role": Role.BACKOFFICE})
TRAIL = reverse("admin:audit_auditevent_changelist")
OUTBOX = reverse("admin:notifications_outboxmessage_changelist")


def signed_request(cast, n: int = 0) -> SignatureRequest:
    """A signed request waiting for the back office, with its item in the work inbox (as signing opens it)."""
    request = SignatureRequest.objects.create(
        kind=SignatureRequest.Kind.DOCUMENT,
        status=SignatureRequest.Status.SIGNED,
        sender=cast.broker1,
        organisation=cast.alpha,
        recipient=cast.client1,
        title=f"Account opening {n}",
        signed_at=timezone.now(),
    )
    signed_request_inbox_open(request)
    return request


def prepared_statement(cast, broker, month: int = 9) -> Statement:
    """A prepared statement waiting for approval, asked for as the month's closing asks (prepared by admin@)."""
    statement = Statement.objects.create(
        beneficiary=broker,
        firm=cast.alpha,
        period=date(2026, month, 1),
        status=Statement.Status.PREPARED,
        prepared_by=cast.admin,
        total=Decimal("12.50"),
    )
    approval_request(kind=STATEMENT_KIND, obj=statement, maker=cast.admin, amount=statement.total, currency="EUR")
    return statement


def failed_report(cast) -> Report:
    return Report.objects.create(
        requested_by=cast.broker1,
        kind="inducements",
        broker=cast.broker1,
        period_start=date(2026, 1, 1),
        period_end=date(2026, 3, 31),
        status=Report.Status.FAILED,
        error="boom",
    )


def counts(html: str) -> dict[str, str]:
    """{label: figure} of the home page's counters."""
    pairs = re.findall(
        r'data-testid="work-count-figure">(\d+)</p>\s*<p class="mb-2"><a class="stretched-link" href="[^"]*">([^<]+)</a>',
        html,
    )
    return {label: figure for figure, label in pairs}


def test_the_home_counts_what_waits_and_links_to_each_list(cast, login_as):
    signed_request(cast, 1)
    signed_request(cast, 2)
    prepared_statement(cast, cast.broker1)
    failed_report(cast)

    html = login_as(cast.backoffice).get(HOME).content.decode()

    assert counts(html) == {
        "Signed requests waiting": "2",
        "Commission statements to approve": "1",
        "Reports failed": "1",
        # bnpl's kinds, nothing waiting there
        "BNPL purchases to approve": "0",
        "Order disputes open": "0",
        "Bank statement lines to reconcile": "0",
    }
    # Signed requests live in the work inbox: the counter opens it filtered to them.
    assert f'href="{reverse("inbox:list")}?kind=signing.signed_request"' in html
    assert f'href="{reverse("inbox:list")}?kind={STATEMENT_KIND}"' in html
    assert f'href="{reverse("admin:reports_report_changelist")}?status__exact=failed"' in html


def test_the_preparer_is_not_asked_to_approve_their_own_statement(cast, login_as):
    prepared_statement(cast, cast.broker1)
    html = login_as(cast.admin).get(HOME).content.decode()
    assert counts(html)["Commission statements to approve"] == "0"


def test_the_home_links_every_tool_of_the_back_office(cast, login_as):
    html = login_as(cast.backoffice).get(HOME).content.decode()
    areas = html.split('data-testid="work-areas"')[1].split("</ul>")[0]
    for url in (reverse("admin:index"), reverse("commissions:statement-list"), TRAIL, OUTBOX):
        assert f'href="{url}"' in areas


def test_other_roles_see_no_back_office_counters_or_admin_links(cast, login_as):
    signed_request(cast)
    html = login_as(cast.client1).get(reverse("shell:role-home", kwargs={"role": Role.CLIENT})).content.decode()
    assert 'data-testid="work-counts"' not in html
    assert reverse("admin:index") not in html and TRAIL not in html
    assert work.work_counts_for(cast.broker1) == []


def test_a_counter_answering_none_is_left_out(cast):
    work.register_work_count("Nothing for you", "shell:home", {Role.BACKOFFICE}, lambda *, actor: None, order=1)
    try:
        labels = [row["label"] for row in work.work_counts_for(cast.backoffice)]
    finally:
        work._counts.pop("shell:home?")
    assert "Nothing for you" not in labels and "Signed requests waiting" in labels


def test_the_home_runs_the_same_queries_for_few_and_many_waiting_rows(cast, login_as):
    client = login_as(cast.backoffice)
    signed_request(cast)
    client.get(HOME)
    from django.db import connection

    with CaptureQueriesContext(connection) as few:
        client.get(HOME)
    for n in range(5):
        signed_request(cast, n + 10)
        failed_report(cast)
    prepared_statement(cast, cast.broker2)
    client.get(HOME)  # the header's inbox count is counted afresh once after items changed, as after the first page
    with CaptureQueriesContext(connection) as many:
        client.get(HOME)
    assert len(many) == len(few)


# --- the second factor, said before the click ------------------------------------------------------


def test_without_a_second_factor_the_home_links_to_its_set_up(cast, login_as, settings):
    settings.PORTAL_REQUIRE_2FA = False  # as in the demo
    prepared_statement(cast, cast.broker1)
    html = login_as(cast.backoffice, verified=False).get(HOME).content.decode()
    notice = html.split('data-testid="second-factor-notice"')[1].split("</div>")[0]
    assert 'data-state="none"' in notice
    assert "Approving a commission statement needs a second factor, and you have none yet." in notice
    assert f"{reverse('accounts:2fa-setup')}?next=" in notice


def test_with_a_verified_session_the_home_says_it_is_confirmed(cast, login_as):
    html = login_as(cast.backoffice).get(HOME).content.decode()
    assert 'data-state="verified"' in html and "confirmed for this session" in html


def test_the_statement_list_in_admin_says_so_before_the_action(cast, login_as, settings):
    settings.PORTAL_REQUIRE_2FA = False
    prepared_statement(cast, cast.broker1)
    html = login_as(cast.backoffice, verified=False).get(STATEMENTS).content.decode()
    assert 'data-testid="second-factor-notice" data-state="none"' in html
    assert f"{reverse('accounts:2fa-setup')}?next=" in html
    assert "needs a second factor" in html

    verified = login_as(cast.backoffice).get(STATEMENTS).content.decode()
    assert 'data-testid="second-factor-notice"' not in verified


# --- the audit trail and the outbox open for the back office -------------------------------------------


def test_a_fresh_migrate_lets_the_oversight_roles_read_the_audit_trail(cast):
    """On a fresh database accounts' post_migrate turn came before the audit permission existed."""
    from django.contrib.auth.models import Group, Permission

    Permission.objects.filter(content_type__app_label__in=["audit", "notifications"]).delete()
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")  # what migrate sends last

    for role in (Role.BACKOFFICE, Role.COMPLIANCE):
        group = Group.objects.get(name=role)
        assert group.permissions.filter(codename="view_auditevent").exists()
    backoffice = Group.objects.get(name=Role.BACKOFFICE)
    assert set(
        backoffice.permissions.filter(content_type__app_label="notifications").values_list("codename", flat=True)
    ) == {"view_outboxmessage", "change_outboxmessage"}


def test_the_demo_back_office_reaches_the_audit_trail_and_outbox_from_its_menu(db, settings):
    """The demo's cast and settings (no second factor required, none enrolled)."""
    from django.test import Client

    from portal.shell.demo import DEMO_PASSWORD, cast_ensure

    settings.PORTAL_REQUIRE_2FA = False
    users = cast_ensure()
    client = Client()
    assert client.login(email="backoffice@example.com", password=DEMO_PASSWORD)
    assert not users["backoffice"].second_factor_devices

    menu = client.get(reverse("shell:home"), follow=True).content.decode()
    for url in (TRAIL, OUTBOX, reverse("admin:index"), reverse("commissions:statement-list")):
        assert f'href="{url}"' in menu
        assert client.get(url).status_code == 200


def test_compliance_staff_read_the_trail_but_not_the_outbox(cast, login_as):
    from tests.factories import UserFactory

    compliance = UserFactory(email="compliance@example.com", is_staff=True, roles=[Role.COMPLIANCE])
    client = login_as(compliance)
    assert client.get(TRAIL).status_code == 200
    assert client.get(OUTBOX).status_code == 403


def test_the_trail_shows_labels_and_filters_by_them(cast, login_as):
    from portal.audit.services import audit_record

    audit_record(
        action="commissions.statement_approved", actor=cast.backoffice, obj=prepared_statement(cast, cast.broker1)
    )
    client = login_as(cast.backoffice)

    html = client.get(TRAIL).content.decode()
    assert "Commission statement approved" in html
    assert ">commissions.statement_approved<" not in html
    assert "Commission statement" in html  # the object type's name, not commissions.statement

    filtered = client.get(TRAIL, {"action": "commissions.statement_approved"}).content.decode()
    assert '<td class="field-action_display">Commission statement approved</td>' in filtered
    assert '<td class="field-action_display">Signed in</td>' not in filtered
    assert '<td class="field-action_display">Signed in</td>' in html  # the login of login_as


def test_labels_follow_the_readers_language_and_unlabelled_codes_read_as_words():
    from django.utils import translation

    from portal.audit.actions import action_label

    label = action_label("auth.password_changed")
    with translation.override("de"):
        assert str(label) == "Passwort geändert"
    assert str(label) == "Password changed"
    assert action_label("example_area.thing_done") == "Example area: thing done"
