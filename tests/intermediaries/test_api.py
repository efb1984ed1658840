import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def api(name, *args):
    return reverse(f"intermediaries-api:{name}", args=args)


def test_the_client_list_endpoint_returns_only_visible_clients(cast, login_as, workspace):
    body = login_as(cast.broker1).get(api("client-list")).json()
    assert body["count"] == 2
    assert {c["number"] for c in body["results"]} == {"C1001", "C1002"}


def test_the_client_list_endpoint_filters_and_searches(cast, login_as, workspace):
    client = login_as(cast.manager)
    assert [c["number"] for c in client.get(api("client-list"), {"q": "carla"}).json()["results"]] == ["C2001"]
    assert [c["number"] for c in client.get(api("client-list"), {"status": "inactive"}).json()["results"]] == ["C1002"]
    by_broker = client.get(api("client-list"), {"broker": cast.broker2.pk}).json()["results"]
    assert [c["number"] for c in by_broker] == ["C2001"]


def test_a_bad_filter_is_a_400_in_the_common_error_format(cast, login_as, workspace):
    response = login_as(cast.broker1).get(api("client-list"), {"assets_min": "lots"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert "assets_min" in response.json()["error"]["details"]


@pytest.mark.parametrize(
    "name",
    ["client-detail", "client-portfolios", "client-positions", "client-transactions", "client-performance"],
)
def test_another_firms_client_is_404_on_every_endpoint(cast, login_as, workspace, name):
    response = login_as(cast.broker3).get(api(name, workspace.anna.pk))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "name",
    ["client-detail", "client-portfolios", "client-positions", "client-transactions", "client-performance"],
)
def test_a_colleagues_client_is_404_on_every_endpoint(cast, login_as, workspace, name):
    assert login_as(cast.broker2).get(api(name, workspace.anna.pk)).status_code == 404


def test_positions_on_a_date_and_performance_over_a_range(cast, login_as, workspace):
    from tests.intermediaries.conftest import DAYS

    client = login_as(cast.broker1)
    positions = client.get(api("client-positions", workspace.anna.pk), {"date": DAYS[5].isoformat()}).json()
    assert {p["isin"] for p in positions} == {"DE0007164600", "IE00B4L5Y983"}
    sap = next(p for p in positions if p["isin"] == "DE0007164600")
    assert sap["quantity"] == "50.00000000"
    performance = client.get(
        api("client-performance", workspace.anna.pk), {"from": DAYS[3].isoformat(), "to": DAYS[9].isoformat()}
    ).json()
    assert performance["series"][0]["date"] == DAYS[3].isoformat()
    assert performance["series"][-1]["date"] == DAYS[9].isoformat()
    assert performance["twr"] is not None


def test_a_bad_performance_range_is_refused(cast, login_as, workspace):
    response = login_as(cast.broker1).get(
        api("client-performance", workspace.anna.pk), {"from": "2026-10-10", "to": "2026-09-01"}
    )
    assert response.status_code == 400


def test_the_dashboard_endpoint_matches_the_page(cast, login_as, workspace):
    body = login_as(cast.broker1).get(api("dashboard"), {"period": "MAX"}).json()
    assert body["clients_total"] == 2 and body["clients_active"] == 1
    assert {c["number"] for c in body["top_clients"]} == {"C1001", "C1002"}
    assert body["chart"]


def test_the_dashboard_refuses_an_unknown_period(cast, login_as, workspace):
    assert login_as(cast.broker1).get(api("dashboard"), {"period": "forever"}).status_code == 400


@pytest.mark.parametrize("who", ["client1", "backoffice", "outsider", "merchant"])
def test_other_roles_get_403_from_the_broker_api(cast, login_as, workspace, who):
    assert login_as(getattr(cast, who)).get(api("client-list")).status_code == 403


def test_a_range_before_the_first_valuation_has_no_figures_rather_than_an_error(cast, login_as, workspace):
    response = login_as(cast.broker1).get(api("client-performance", workspace.anna.pk), {"to": "2000-01-01"})
    assert response.status_code == 200
    body = response.json()
    assert body["twr"] is None and body["mwr"] is None and body["series"] == []
    assert len(body["periods"]) == 6  # the standard periods do not depend on the range asked for


def test_an_assets_bound_beyond_the_column_is_a_400(cast, login_as, workspace):
    response = login_as(cast.broker1).get(api("client-list"), {"assets_max": "1e51"})
    assert response.status_code == 400
    assert "assets_max" in response.json()["error"]["details"]
