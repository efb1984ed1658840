import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_dashboard_shows_the_brokers_book(cast, login_as, workspace):
    response = login_as(cast.broker1).get(reverse("intermediaries:dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Anna Albers" in html
    assert "Carla Conrad" not in html and "Dora Dietrich" not in html
    assert 'data-testid="client-count">1 / 2<' in html


def test_a_broker_lands_on_the_dashboard_after_login(cast, login_as, workspace):
    response = login_as(cast.broker1).get(reverse("shell:home"))
    assert response["Location"] == reverse("intermediaries:dashboard")


def test_the_client_list_shows_only_the_brokers_own_clients(cast, login_as, workspace):
    html = login_as(cast.broker1).get(reverse("intermediaries:client-list")).content.decode()
    assert "Anna Albers" in html and "Bert Brandt" in html
    assert "Carla Conrad" not in html and "Dora Dietrich" not in html


def test_a_firm_manager_sees_every_client_of_the_firm_and_not_another_firms(cast, login_as, workspace):
    html = login_as(cast.manager).get(reverse("intermediaries:client-list")).content.decode()
    assert "Anna Albers" in html and "Carla Conrad" in html
    assert "Dora Dietrich" not in html


def test_the_client_detail_shows_positions_and_performance(cast, login_as, workspace):
    html = (
        login_as(cast.broker1).get(reverse("intermediaries:client-detail", args=[workspace.anna.pk])).content.decode()
    )
    assert "SAP SE" in html and "iShares Core MSCI World" in html
    assert 'data-testid="performance-table"' in html


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        ("0001-01-01", "choose that day or a later one"),  # once a 500: a month before the year 1
        ("2026-02-30", "Enter a valid date"),
        ("someday", "Enter a valid date"),
        ("2999-01-01", "choose that day or an earlier one"),
    ],
)
def test_a_bad_positions_day_on_the_client_page_is_refused_with_the_reason(cast, login_as, workspace, day, reason):
    url = reverse("intermediaries:client-detail", args=[workspace.anna.pk])
    response = login_as(cast.broker1).get(url, {"date": day})
    assert response.status_code == 400
    html = response.content.decode()
    assert reason in html
    assert "Positions" in html  # the page itself, at the latest valuation


def test_the_performance_table_labels_cumulative_and_annualised_returns(cast, login_as, workspace):
    html = (
        login_as(cast.broker1).get(reverse("intermediaries:client-detail", args=[workspace.anna.pk])).content.decode()
    )
    table = html[html.index('data-testid="performance-table"') : html.index('data-testid="performance-note"')]
    assert table.count("Cumulative") == 2 and table.count("p.a.") == 2
    # Under a year nothing is annualised: each period's p.a. cells show a dash.
    assert table.count('data-figure="twr-annualised">–<') == table.count('data-figure="mwr-annualised">–<') == 6
    assert "annualised (p.a.) only for periods of a year or more" in html


@pytest.mark.parametrize(
    "url_name",
    ["client-detail", "client-performance", "transaction-list", "transaction-export"],
)
def test_another_firms_client_is_404_on_every_page(cast, login_as, workspace, url_name):
    client = login_as(cast.broker3)
    assert client.get(reverse(f"intermediaries:{url_name}", args=[workspace.anna.pk])).status_code == 404


def test_a_colleagues_client_is_404_for_a_broker_until_shared(cast, login_as, workspace):
    url = reverse("intermediaries:client-detail", args=[workspace.carla.pk])
    assert login_as(cast.broker1).get(url).status_code == 404
    manager = login_as(cast.manager)
    response = manager.post(
        reverse("intermediaries:client-share", args=[workspace.carla.pk]),
        {"broker": cast.broker1.pk, "action": "share"},
    )
    assert response.status_code == 302
    assert login_as(cast.broker1).get(url).status_code == 200
    login_as(cast.manager).post(
        reverse("intermediaries:client-share", args=[workspace.carla.pk]),
        {"broker": cast.broker1.pk, "action": "revoke"},
    )
    assert login_as(cast.broker1).get(url).status_code == 404


def test_sharing_is_audited(cast, login_as, workspace):
    from portal.audit.models import AuditEvent

    login_as(cast.manager).post(
        reverse("intermediaries:client-share", args=[workspace.carla.pk]),
        {"broker": cast.broker1.pk, "action": "share"},
    )
    event = AuditEvent.objects.get(action="client.shared")
    assert event.actor == cast.manager
    assert event.changes == {"shared_with": "broker1@example.com"}


def test_a_broker_cannot_share_clients(cast, login_as, workspace):
    response = login_as(cast.broker1).post(
        reverse("intermediaries:client-share", args=[workspace.anna.pk]), {"broker": cast.broker2.pk}
    )
    assert response.status_code == 403


def test_the_client_export_contains_only_visible_clients(cast, login_as, workspace):
    response = login_as(cast.broker1).get(reverse("intermediaries:client-export"))
    body = b"".join(response.streaming_content).decode()
    assert "C1001" in body and "C1002" in body
    assert "C2001" not in body and "C3001" not in body


def test_the_transaction_filter_narrows_by_type(cast, login_as, workspace):
    response = login_as(cast.broker1).get(
        reverse("intermediaries:transaction-list", args=[workspace.anna.pk]), {"type": "dividend"}
    )
    html = response.content.decode()
    assert "Dividend" in html and "Fee" not in html.split('data-testid="transaction-table"')[1].split("</table>")[0]


def test_a_bad_transaction_filter_gets_the_same_clear_error_on_the_page_and_its_export(cast, login_as, workspace):
    broker = login_as(cast.broker1)
    bad = {"date_from": "yesterday"}

    page = broker.get(reverse("intermediaries:transaction-list", args=[workspace.anna.pk]), bad)
    export = broker.get(reverse("intermediaries:transaction-export", args=[workspace.anna.pk]), bad)

    assert page.status_code == 400
    assert "Enter a valid date." in page.content.decode()
    assert "No transactions match." in page.content.decode()  # no rows for a filter that means nothing
    assert export.status_code == 400
    assert export.json()["error"] == {
        "code": "invalid",
        "message": "The filter has invalid values.",
        "status": 400,
        "details": {"date_from": ["Enter a valid date."]},
    }


@pytest.mark.parametrize("who", ["client1", "backoffice", "outsider", "merchant"])
def test_other_roles_cannot_open_the_broker_workspace(cast, login_as, workspace, who):
    assert login_as(getattr(cast, who)).get(reverse("intermediaries:dashboard")).status_code == 403
