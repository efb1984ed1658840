"""Dashboard and client figures are cached per data version: a change shows at once, an outage costs nothing."""

from decimal import Decimal

import pytest
from django.urls import reverse

from intermediaries import selectors
from intermediaries.models import BookValuation
from intermediaries.valuation import revalue_and_roll_up
from portal.core.cache import cache_settings

from .conftest import DAYS, book


def _aum(user):
    return selectors.dashboard(actor=user, period="MAX")["aum"]


def test_a_revaluation_shows_on_the_next_dashboard(cast, workspace):
    before = _aum(cast.broker1)
    portfolio = workspace.portfolios["C1001"]
    book("late-1", portfolio, "deposit", DAYS[-1], "5000")
    revalue_and_roll_up(portfolio_ids=[portfolio.pk])
    assert _aum(cast.broker1) == before + Decimal("5000")


def test_the_cached_dashboard_is_served_without_reading_the_book_again(cast, workspace, django_assert_num_queries):
    _aum(cast.broker1)
    # The roles come from the user object (already loaded by the middleware on a request).
    cast.broker1.roles  # noqa: B018
    with django_assert_num_queries(0):
        _aum(cast.broker1)


def test_a_share_changes_the_colleagues_client_count_at_once(cast, login_as, workspace):
    assert selectors.dashboard(actor=cast.broker1)["clients_total"] == 2
    login_as(cast.manager).post(
        reverse("intermediaries:client-share", args=[workspace.carla.pk]),
        {"broker": cast.broker1.pk, "action": "share"},
    )
    assert selectors.dashboard(actor=cast.broker1)["clients_total"] == 3


def test_a_client_reassigned_in_admin_leaves_the_old_brokers_count(cast, workspace):
    assert selectors.dashboard(actor=cast.broker1)["clients_total"] == 2
    workspace.bert.advisor = cast.broker2
    workspace.bert.save()
    assert selectors.dashboard(actor=cast.broker1)["clients_total"] == 1


def test_figures_are_never_shared_across_brokers(cast, workspace):
    mine = _aum(cast.broker1)
    theirs = _aum(cast.broker3)
    assert mine != theirs
    assert theirs == BookValuation.objects.filter(advisor=cast.broker3).latest("date").market_value


@pytest.fixture
def unreachable_cache(settings):
    # Port 9 (discard) refuses connections at once: every Redis call fails. Changing the setting
    # makes Django drop its cache connections.
    settings.CACHES = cache_settings("redis://127.0.0.1:9/0")


def test_pages_still_work_when_the_cache_is_down(cast, login_as, workspace, unreachable_cache):
    broker = login_as(cast.broker1)
    assert broker.get(reverse("intermediaries:dashboard")).status_code == 200
    assert broker.get(reverse("intermediaries:client-detail", args=[workspace.anna.pk])).status_code == 200


def test_a_cached_client_page_is_served_per_language(cast, login_as, workspace):
    url = reverse("intermediaries:client-detail", args=[workspace.anna.pk])
    assert ">Positions<" in login_as(cast.broker1).get(url).text
    cast.broker1.language = "de"
    cast.broker1.save(update_fields=["language"])
    assert ">Positionen<" in login_as(cast.broker1).get(url).text


def test_the_cached_client_section_spares_the_reads_but_not_the_access_check(
    cast, login_as, workspace, django_assert_max_num_queries
):
    url = reverse("intermediaries:client-detail", args=[workspace.anna.pk])
    broker = login_as(cast.broker1)
    broker.get(url)
    # Session, user, devices, roles, notifications; the access check (shares, client): no figure reads.
    with django_assert_max_num_queries(9):
        assert broker.get(url).status_code == 200
    assert login_as(cast.broker3).get(url).status_code == 404  # the cache never bypasses access


def test_a_firm_manager_still_gets_a_fresh_share_form_beside_the_cached_section(cast, login_as, workspace):
    url = reverse("intermediaries:client-detail", args=[workspace.anna.pk])
    login_as(cast.broker1).get(url)  # fills the cache
    page = login_as(cast.manager).get(url).text
    assert 'name="csrfmiddlewaretoken"' in page and "Shared with" in page


def test_the_client_list_is_cached_per_actor_and_filter_and_searches_stay_fresh(cast, login_as, workspace):
    url = reverse("intermediaries:client-list")
    broker1 = login_as(cast.broker1)
    assert "C1002" in broker1.get(url).text
    assert "C1002" not in broker1.get(url, {"status": "active"}).text  # another filter, another entry
    assert "C2001" not in broker1.get(url).text
    assert "C2001" in login_as(cast.manager).get(url).text  # another actor, another entry
    assert "C1001" in login_as(cast.broker1).get(url, {"q": "anna"}).text  # a search is rendered fresh


def test_a_reassigned_client_leaves_the_cached_list_at_once(cast, login_as, workspace):
    url = reverse("intermediaries:client-list")
    assert "C1002" in login_as(cast.broker1).get(url).text
    workspace.bert.advisor = cast.broker2
    workspace.bert.save()
    assert "C1002" not in login_as(cast.broker1).get(url).text


def test_the_api_client_list_is_cached_per_caller_and_a_share_shows_at_once(cast, login_as, workspace):
    url = reverse("intermediaries-api:client-list")
    assert login_as(cast.broker1).get(url).json()["count"] == 2
    assert login_as(cast.broker3).get(url).json()["count"] == 1  # another caller, another entry
    login_as(cast.manager).post(
        reverse("intermediaries:client-share", args=[workspace.carla.pk]),
        {"broker": cast.broker1.pk, "action": "share"},
    )
    assert login_as(cast.broker1).get(url).json()["count"] == 3
    bad = login_as(cast.broker1).get(url, {"status": "bogus"})
    assert bad.status_code == 400  # a bad filter is still refused, never cached


def test_the_cached_api_client_list_answers_as_the_uncached_one(cast, login_as, workspace, settings):
    url = reverse("intermediaries-api:client-list")
    client = login_as(cast.broker1)
    first, cached = client.get(url), client.get(url)
    settings.PORTAL_FIGURES_CACHE = False
    fresh = client.get(url)

    assert cached.content == first.content == fresh.content
    assert cached["Content-Type"] == fresh["Content-Type"] == "application/json"
    assert cached["Vary"] == fresh["Vary"]
    assert [c["number"] for c in cached.json()["results"]] == ["C1001", "C1002"]
    browsable = client.get(url, HTTP_ACCEPT="text/html")  # the browsable API still renders its page
    assert browsable.status_code == 200 and b"C1001" in browsable.content


def test_a_revaluation_computes_the_affected_dashboards_into_the_cache_after_the_commit(
    cast, workspace, django_capture_on_commit_callbacks, django_assert_num_queries
):
    portfolio = workspace.portfolios["C1001"]
    book("late-2", portfolio, "deposit", DAYS[-1], "700")
    with django_capture_on_commit_callbacks(execute=True):
        revalue_and_roll_up(portfolio_ids=[portfolio.pk])

    cast.broker1.roles  # noqa: B018 (loaded with the user on a request)
    cast.manager.roles  # noqa: B018
    with django_assert_num_queries(0):  # warmed for the broker and for the firm's manager, with the new deposit
        broker_figures = selectors.dashboard(actor=cast.broker1)
        selectors.dashboard(actor=cast.manager)
    assert broker_figures["aum"] == selectors.dashboard(actor=cast.broker1, period="MAX")["aum"]


def test_warming_computes_only_dashboards_of_brokers_and_managers(cast, workspace):
    assert selectors.dashboards_warm(advisor_ids=[cast.broker1.pk, cast.client1.pk], firm_ids=[]) == 1
    assert selectors.dashboards_warm(advisor_ids=[], firm_ids=[cast.broker1.organisation_id]) == 1  # the manager
    assert selectors.dashboards_warm(advisor_ids=[], firm_ids=[]) == 0


def test_without_the_figures_cache_nothing_is_warmed(cast, workspace, settings, django_capture_on_commit_callbacks):
    settings.PORTAL_FIGURES_CACHE = False
    portfolio = workspace.portfolios["C1001"]
    with django_capture_on_commit_callbacks() as callbacks:
        revalue_and_roll_up(portfolio_ids=[portfolio.pk])
    assert not any("dashboards_warm" in repr(callback) for callback in callbacks)


def test_a_share_made_while_redis_hangs_shows_at_once_and_after_redis_is_back(
    cast, login_as, workspace, settings, private_redis, django_capture_on_commit_callbacks
):
    import time

    from clients.services import client_share

    settings.CACHES = cache_settings(private_redis.url)
    settings.PORTAL_REDIS_RETRY_SECONDS = 0.5
    broker = login_as(cast.broker1)
    url = reverse("intermediaries:client-list")
    assert workspace.carla.number not in broker.get(url).content.decode()  # cached in Redis without Carla

    private_redis.pause()  # hung: Redis keeps the cached list and the old data version
    try:
        with django_capture_on_commit_callbacks(execute=True):
            client_share(actor=cast.manager, client=workspace.carla, broker=cast.broker1)
        assert workspace.carla.number in broker.get(url).content.decode()  # from the database meanwhile
    finally:
        private_redis.resume()

    time.sleep(0.6)  # the retry period: Redis is asked again and forgets the bumped version first
    assert workspace.carla.number in broker.get(url).content.decode()
