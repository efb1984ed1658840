"""The report form picks the client by a search over the broker's own clients (htmx, or the search
button without JavaScript); `?client=<id>` starts with that client if the broker may see them."""

import pytest

from reports.models import Report

pytestmark = pytest.mark.django_db


def request_form(**fields):
    return {"kind": "portfolio_statement", "period_start": "2026-09-01", "period_end": "2026-10-31", **fields}


def test_typing_part_of_a_name_finds_only_the_brokers_own_clients(cast, workspace, login_as):
    browser = login_as(cast.broker1)
    html = browser.get("/reports/clients/", {"client_q": "a"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in html
    assert "Anna Albers" in html and f'value="{workspace.anna.pk}"' in html and "Bert Brandt" in html
    # Carla and Dora have an "a" in their names too, but they are other brokers' clients.
    assert "Carla" not in html and "Dora" not in html


@pytest.mark.parametrize(
    ("query", "found"),
    [("C1002", ["Bert Brandt"]), ("anna alb", ["Anna Albers"]), ("C100", ["Anna Albers", "Bert Brandt"])],
)
def test_a_client_is_found_by_number_or_by_words_of_the_name(cast, workspace, login_as, query, found):
    html = login_as(cast.broker1).get("/reports/clients/", {"client_q": query}).content.decode()
    assert [name for name in ("Anna Albers", "Bert Brandt") if name in html] == found


def test_another_firms_broker_finds_nothing_of_ours(cast, workspace, login_as):
    html = login_as(cast.broker3).get("/reports/clients/", {"client_q": "Albers"}).content.decode()
    assert "Anna" not in html and "None of your clients matches." in html


def test_the_search_is_for_those_who_request_reports(cast, workspace, login_as, client):
    assert login_as(cast.client1).get("/reports/clients/", {"client_q": "a"}).status_code == 403
    client.logout()
    assert client.get("/reports/clients/", {"client_q": "a"}).status_code == 302


def test_the_search_costs_the_same_queries_for_a_few_and_for_many_clients(
    cast, workspace, login_as, django_assert_max_num_queries
):
    from tests.intermediaries.conftest import make_client

    browser = login_as(cast.broker1)
    browser.get("/reports/clients/", {"client_q": "a"})
    with django_assert_max_num_queries(6):
        browser.get("/reports/clients/", {"client_q": "a"})
    for n in range(30):
        make_client(f"C9{n:03d}", "Hanna", f"Haas{n}", cast.broker1)
    with django_assert_max_num_queries(6):
        html = browser.get("/reports/clients/", {"client_q": "a"}).content.decode()
    assert html.count('name="client"') == 10 and "More clients match" in html


def test_a_picked_client_is_requested(cast, workspace, login_as, media):
    response = login_as(cast.broker1).post("/reports/request/", request_form(client=workspace.bert.pk, client_q="Bert"))
    assert response.status_code == 302
    assert Report.objects.get().client == workspace.bert


@pytest.mark.parametrize("query", ["C1001", "c1001", "Albers", "anna albers"])
def test_without_a_pick_a_search_that_names_one_client_is_enough(cast, workspace, login_as, media, query):
    response = login_as(cast.broker1).post("/reports/request/", request_form(client_q=query))
    assert response.status_code == 302
    assert Report.objects.get().client == workspace.anna


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"client_q": "C100"}, "Several of your clients match “C100”: choose one."),
        ({"client_q": "Conrad"}, "None of your clients matches “Conrad”."),
        ({"client_q": ""}, "Choose one of your clients."),
        ({"client": "abc"}, "Enter a whole number."),
        ({"client": "99999999999999999999999"}, "Ensure this value is less than or equal to"),
        ({"client_q": "x" * 101}, "Ensure this value has at most 100 characters"),
    ],
)
def test_bad_client_input_is_explained_and_nothing_is_requested(cast, workspace, login_as, fields, message):
    response = login_as(cast.broker1).post("/reports/request/", request_form(**fields))
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html and 'data-testid="client-error"' in html
    assert not Report.objects.exists()


def test_another_brokers_client_picked_by_id_is_refused(cast, workspace, login_as):
    response = login_as(cast.broker1).post("/reports/request/", request_form(client=workspace.carla.pk))
    assert response.status_code == 400 and "Choose one of your clients." in response.content.decode()
    assert "Carla" not in response.content.decode()
    assert not Report.objects.exists()


def test_several_matches_are_offered_to_choose_from(cast, workspace, login_as):
    html = login_as(cast.broker1).post("/reports/request/", request_form(client_q="C100")).content.decode()
    assert f'value="{workspace.anna.pk}"' in html and f'value="{workspace.bert.pk}"' in html


def test_the_search_button_without_javascript_shows_the_clients_found_and_keeps_the_form(cast, workspace, login_as):
    response = login_as(cast.broker1).post(
        "/reports/request/", request_form(client_q="Brandt", action="search", period_start="2026-10-01")
    )
    html = response.content.decode()
    assert response.status_code == 200 and not Report.objects.exists()
    assert "Bert Brandt" in html and 'data-testid="client-error"' not in html
    assert 'value="2026-10-01"' in html and 'value="Brandt"' in html


def test_the_form_starts_with_the_client_of_the_link(cast, workspace, login_as):
    html = login_as(cast.broker1).get("/reports/", {"client": workspace.anna.pk}).content.decode()
    assert "Anna Albers" in html
    assert f'value="{workspace.anna.pk}" checked' in html


@pytest.mark.parametrize("client_id", ["dora", "abc", "99999999999999999999999", "-1"])
def test_a_link_to_a_client_the_broker_may_not_see_starts_empty(cast, workspace, login_as, client_id):
    if client_id == "dora":
        client_id = workspace.dora.pk
    response = login_as(cast.broker1).get("/reports/", {"client": client_id})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Dora" not in html and 'name="client" value' not in html
