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


def numbers(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [c["number"] for c in response.json()["results"]]


def test_sort_keys_are_repeated_parameters_applied_in_order(cast, login_as, workspace):
    client = login_as(cast.broker1)
    assert numbers(client.get(api("client-list"), {"ordering": ["-status", "name"]})) == ["C1002", "C1001"]
    assert numbers(client.get(api("client-list"), {"ordering": ["status", "-name"]})) == ["C1001", "C1002"]
    assert numbers(client.get(api("client-list"), {"ordering": ""})) == ["C1001", "C1002"]


def test_the_comma_form_of_ordering_is_refused_with_the_form_to_use(cast, login_as, workspace):
    response = login_as(cast.broker1).get(api("client-list"), {"ordering": "-status,name"})
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {
        "ordering": [
            "-status,name is not a sort key; for several keys repeat the parameter (?ordering=-assets&ordering=name)."
        ]
    }


def test_the_client_page_sorts_with_the_same_filter(cast, login_as, workspace):
    html = login_as(cast.broker1).get(reverse("intermediaries:client-list"), {"ordering": "-name"}).content.decode()
    assert html.index("Brandt") < html.index("Albers")


def test_a_broker_may_name_only_themselves_as_broker(cast, login_as, workspace):
    from clients.services import client_share

    client_share(actor=cast.manager, client=workspace.carla, broker=cast.broker1)
    client = login_as(cast.broker1)
    assert numbers(client.get(api("client-list"))) == ["C1001", "C1002", "C2001"]
    # Their own book, without the client shared with them.
    assert numbers(client.get(api("client-list"), {"broker": cast.broker1.pk})) == ["C1001", "C1002"]
    for value in (cast.broker2.pk, "null", "0"):
        response = client.get(api("client-list"), {"broker": value})
        assert response.status_code == 400, value
        assert list(response.json()["error"]["details"]) == ["broker"]


def test_a_firm_manager_may_not_name_another_firms_broker(cast, login_as, workspace):
    response = login_as(cast.manager).get(api("client-list"), {"broker": cast.broker3.pk})
    assert response.status_code == 400 and list(response.json()["error"]["details"]) == ["broker"]


def test_the_page_offers_the_broker_choice_to_firm_managers_only(cast, login_as, workspace):
    assert 'name="broker"' in login_as(cast.manager).get(reverse("intermediaries:client-list")).content.decode()
    assert 'name="broker"' not in login_as(cast.broker1).get(reverse("intermediaries:client-list")).content.decode()


def test_an_assets_range_that_is_reversed_is_a_400_on_the_api_and_an_error_on_the_page(cast, login_as, workspace):
    client = login_as(cast.broker1)
    response = client.get(api("client-list"), {"assets_min": "5000", "assets_max": "100"})
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"assets_max": ["“Assets to” must not be less than “Assets from”."]}
    page = client.get(reverse("intermediaries:client-list"), {"assets_min": "5000", "assets_max": "100"})
    assert "“Assets to” must not be less than “Assets from”." in page.content.decode()
    assert numbers(client.get(api("client-list"), {"assets_min": "100", "assets_max": "100000"})) == ["C1001", "C1002"]


def test_negative_assets_bounds_are_refused(cast, login_as, workspace):
    response = login_as(cast.broker1).get(api("client-list"), {"assets_max": "-1"})
    assert response.status_code == 400 and list(response.json()["error"]["details"]) == ["assets_max"]


def test_a_reversed_transaction_range_is_a_400(cast, login_as, workspace):
    response = login_as(cast.broker1).get(
        api("client-transactions", workspace.anna.pk), {"date_from": "2026-10-01", "date_to": "2026-09-01"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"date_to": ["“To” must not be before “From”."]}


def test_a_malformed_performance_date_is_a_400_not_a_server_error(cast, login_as, workspace):
    response = login_as(cast.broker1).get(api("client-performance", workspace.anna.pk), {"from": "AAA"})
    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["from"]


def test_a_client_without_email_has_null_not_an_empty_string(cast, login_as, workspace):
    client = login_as(cast.broker1)
    assert client.get(api("client-detail", workspace.bert.pk)).json()["email"] is None
    assert client.get(api("client-detail", workspace.anna.pk)).json()["email"] == "anna@example.com"


def test_performance_is_cumulative_and_under_a_year_not_annualised(cast, login_as, workspace):
    from decimal import Decimal

    body = login_as(cast.broker1).get(api("client-performance", workspace.anna.pk)).json()

    # Anna's only deposit or withdrawal is the first one: over every range MWR = TWR, both cumulative.
    for figures in [body, *body["periods"]]:
        assert abs(Decimal(figures["mwr"]) - Decimal(figures["twr"])) < Decimal("1e-9"), figures
        # Her history is shorter than a year: nothing is annualised (GIPS).
        assert figures["twr_annualised"] is None and figures["mwr_annualised"] is None
    assert [p["code"] for p in body["periods"]] == ["1M", "MTD", "YTD", "1Y", "3Y", "MAX"]
