"""Nobody sees a colleague's commissions: every page, export, PDF and endpoint, every role.

broker1's September statement and one of its entries are the objects; each role either sees them
(200) or they do not exist (404), or the role has no commission pages at all (403). Lists never
contain a foreign id. The firm manager sees broker1's only with the permission on their role.
"""

import pytest
from django.core.cache import cache

from commissions import services
from commissions.models import Accrual, Statement
from tests.api_keys.conftest import auth, key_for

from .conftest import SEPTEMBER

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(cast, workspace, plans, tmp_path, settings, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path
    services.month_accrue(period=SEPTEMBER)
    with django_capture_on_commit_callbacks(execute=True):
        services.month_close_start(actor=cast.admin, period=SEPTEMBER)
        services.month_close_finish(period=SEPTEMBER)
    statement = Statement.objects.get(beneficiary=cast.broker1, period=SEPTEMBER)
    accrual = Accrual.objects.filter(statement=statement, kind="upfront").first()
    assert statement.pdf
    return statement, accrual


def urls(statement, accrual):
    return {
        "page: statement": f"/commissions/{statement.pk}/",
        "page: entry": f"/commissions/entries/{accrual.pk}/",
        "export: csv": f"/commissions/{statement.pk}/export.csv",
        "download: pdf": f"/commissions/{statement.pk}/statement.pdf",
        "api: statement": f"/api/v1/commissions/{statement.pk}/",
        "api: pdf": f"/api/v1/commissions/{statement.pk}/pdf/",
        "api: entry": f"/api/v1/commissions/accruals/{accrual.pk}/",
    }


@pytest.mark.parametrize("who", ["broker1", "backoffice"])
def test_the_owner_and_back_office_reach_every_view(cast, login_as, book, who):
    client = login_as(getattr(cast, who))
    for name, url in urls(*book).items():
        assert client.get(url).status_code == 200, name


@pytest.mark.parametrize("who", ["broker2", "broker3", "manager"])
def test_colleagues_other_firms_and_a_manager_without_permission_get_404_everywhere(cast, login_as, book, who):
    client = login_as(getattr(cast, who))
    for name, url in urls(*book).items():
        assert client.get(url).status_code == 404, name


def test_a_manager_whose_role_carries_the_permission_sees_the_firms_brokers(cast, login_as, book, firm_view_permission):
    client = login_as(cast.manager)
    for name, url in urls(*book).items():
        assert client.get(url).status_code == 200, name


def test_the_permission_on_a_brokers_role_shows_no_colleague_anything(cast, login_as, book):
    from django.contrib.auth.models import Group, Permission

    from portal.accounts.roles import Role

    Group.objects.get(name=Role.INTERMEDIARY).permissions.add(Permission.objects.get(codename="view_firm_commissions"))
    client = login_as(cast.broker2)
    for name, url in urls(*book).items():
        assert client.get(url).status_code == 404, name


@pytest.mark.parametrize("who", ["client1", "partner", "merchant", "outsider"])
def test_roles_without_commissions_get_403(cast, login_as, book, who):
    client = login_as(getattr(cast, who))
    for name, url in urls(*book).items():
        assert client.get(url).status_code == 403, name
    assert client.get("/commissions/").status_code == 403
    assert client.get("/api/v1/commissions/").status_code == 403


def test_lists_never_contain_a_colleagues_statement_or_entry(cast, login_as, book):
    statement, accrual = book
    client = login_as(cast.broker2)
    page = client.get("/commissions/").content.decode()
    assert f'href="/commissions/{statement.pk}/"' not in page
    ids = {s["id"] for s in client.get("/api/v1/commissions/").json()["results"]}
    assert statement.pk not in ids and ids
    assert set(Statement.objects.filter(pk__in=ids).values_list("beneficiary", flat=True)) == {cast.broker2.pk}
    entries = client.get("/api/v1/commissions/accruals/", {"statement": statement.pk}).json()
    assert entries["count"] == 0
    everything = client.get("/api/v1/commissions/accruals/", {"page_size": 500}).json()["results"]
    assert accrual.pk not in {e["id"] for e in everything}
    assert {e["statement"] for e in everything} <= set(
        Statement.objects.filter(beneficiary=cast.broker2).values_list("pk", flat=True)
    )


def test_a_managers_list_shows_the_firm_only_with_the_permission(cast, login_as, book, firm_view_permission):
    client = login_as(cast.manager)
    people = {s["beneficiary"] for s in client.get("/api/v1/commissions/").json()["results"]}
    assert people == {"broker1@example.com", "broker2@example.com", "manager@example.com"}


def test_a_colleagues_api_key_sees_nothing_of_broker1(cast, book, client):
    statement, accrual = book
    cache.clear()
    _, secret = key_for(cast.broker2, {"commissions": "read"})
    for name, url in urls(statement, accrual).items():
        if url.startswith("/api/"):
            assert client.get(url, **auth(secret)).status_code == 404, name
    listed = client.get("/api/v1/commissions/", **auth(secret)).json()["results"]
    assert statement.pk not in {s["id"] for s in listed}
