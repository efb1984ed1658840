"""The client zone's own pages: home (its panels), documents (its sources), my adviser.

Every page starts from the signed-in client's own record: a client sees only their own, anybody
without a record gets 404, a visitor is sent to log in.
"""

import datetime
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clients import zone
from clients.models import Client
from portal.accounts.roles import Role
from portal.core import navigation
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ZONE_PAGES = ["clients:home", "clients:documents", "clients:adviser"]


@pytest.fixture
def book(cast):
    """client1 and client2 advised by broker1 (Alpha Invest), client3 without an adviser."""
    cast.broker1.first_name, cast.broker1.last_name, cast.broker1.phone = "Boris", "Brandt", "+4915100000004"
    cast.broker1.save()
    return SimpleNamespace(
        anna=Client.objects.create(
            number="C1001", first_name="Anna", last_name="Albers", advisor=cast.broker1, user=cast.client1
        ),
        bert=Client.objects.create(
            number="C1002", first_name="Bert", last_name="Brandt", advisor=cast.broker1, user=cast.client2
        ),
        dora=Client.objects.create(number="C3001", first_name="Dora", last_name="Dietrich", user=cast.client3),
    )


@pytest.fixture
def registry(settings, tmp_path):
    """An empty zone registry for the test (the apps' registrations come back afterwards), and a
    template directory for the test's panels."""
    saved = (dict(zone._registry.panels), dict(zone._registry.sources), dict(zone._registry.export_parts))
    for part in (zone._registry.panels, zone._registry.sources, zone._registry.export_parts):
        part.clear()
    (tmp_path / "zone_test").mkdir()
    (tmp_path / "zone_test" / "_panel.html").write_text(
        '<div class="card" data-testid="test-panel">{{ name }} for {{ client.number }}</div>'
    )
    templates = [dict(engine) for engine in settings.TEMPLATES]
    templates[0]["DIRS"] = [*templates[0]["DIRS"], tmp_path]
    settings.TEMPLATES = templates
    yield zone
    for part, before in zip(
        (zone._registry.panels, zone._registry.sources, zone._registry.export_parts), saved, strict=True
    ):
        part.clear()
        part.update(before)


def panel(key, *, order=50, width="wide", context=None):
    return zone.HomePanel(
        key=key,
        template="zone_test/_panel.html",
        context=context or (lambda client, request: {"name": key}),
        order=order,
        width=width,
    )


def documents_of(count, *, title="Statement", kind="Portfolio statement", new_every=2):
    """A source's documents(client): `count` documents of the client, newest first."""

    def documents(client):
        for n in range(count):
            yield zone.ZoneDocument(
                title=f"{title} {client.number}-{n + 1}",
                kind=kind,
                date=datetime.date(2026, 11, 30) - datetime.timedelta(days=n),
                url=f"/files/{client.number}/{n + 1}.pdf",
                is_new=n % new_every == 0,
            )

    return documents


# --- home -----------------------------------------------------------------------------------


def test_a_client_lands_on_the_zone_home_after_login(cast, book, login_as):
    response = login_as(cast.client1).get(reverse("shell:home"))

    assert response.status_code == 302
    assert response.url == reverse("clients:home") == "/client/"


def test_the_home_shows_the_panels_in_their_order_and_width(cast, book, login_as, registry):
    registry.register_home_panel(panel("second", order=20, width="narrow"))
    registry.register_home_panel(panel("first", order=10))
    registry.register_home_panel(panel("third", order=30, width="narrow"))

    page = login_as(cast.client1).get(reverse("clients:home"))

    assert page.status_code == 200
    text = page.text
    assert "Welcome, Anna Albers" in text and "C1001" in text
    assert text.index("first for C1001") < text.index("second for C1001") < text.index("third for C1001")
    assert [p.key for p in page.context["panels"]] == ["first", "second", "third"]
    assert '<div class="col-12" data-panel="first">' in text
    assert '<div class="col-12 col-lg-6" data-panel="second">' in text
    assert 'data-testid="zone-empty"' not in text


def test_a_panel_without_anything_to_show_is_left_out(cast, book, login_as, registry):
    registry.register_home_panel(panel("shown"))
    registry.register_home_panel(panel("hidden", context=lambda client, request: None))

    page = login_as(cast.client1).get(reverse("clients:home"))

    assert [p.key for p in page.context["panels"]] == ["shown"]
    assert 'data-panel="hidden"' not in page.text


def test_a_panel_is_given_the_signed_in_clients_record(cast, book, login_as, registry):
    seen = []
    registry.register_home_panel(
        panel("spy", context=lambda client, request: seen.append((client.pk, request.user.pk)) or {"name": "spy"})
    )

    login_as(cast.client2).get(reverse("clients:home"))

    assert seen == [(book.bert.pk, cast.client2.pk)]


def test_a_panels_scripts_are_loaded_once(cast, book, login_as, registry):
    chart = "vendor/chartjs/chart.umd.min.js"
    for key in ("a", "b"):
        registry.register_home_panel(
            zone.HomePanel(
                key=key,
                template="zone_test/_panel.html",
                context=lambda client, request: {"name": "x"},
                scripts=(chart,),
            )
        )

    page = login_as(cast.client1).get(reverse("clients:home"))

    assert page.text.count("chart.umd.min.js") == 1


def test_with_nothing_to_show_the_home_explains_why_and_names_the_adviser(cast, book, login_as, registry):
    registry.register_home_panel(panel("empty", context=lambda client, request: None))

    page = login_as(cast.client1).get(reverse("clients:home"))

    assert page.status_code == 200
    assert 'data-testid="zone-empty"' in page.text
    assert "Your adviser has not opened a portfolio for you yet" in page.text
    assert "Boris Brandt" in page.text and "broker1@example.com" in page.text and "+4915100000004" in page.text


def test_with_nothing_to_show_and_no_adviser_the_home_says_so(cast, book, login_as, registry):
    page = login_as(cast.client3).get(reverse("clients:home"))

    assert 'data-testid="zone-empty"' in page.text
    assert 'data-testid="no-adviser"' in page.text


# --- documents ------------------------------------------------------------------------------


def test_the_documents_page_shows_each_source_as_a_section(cast, book, login_as, registry):
    registry.register_document_source(
        zone.DocumentSource(key="statements", label="Statements", documents=documents_of(3), order=20)
    )
    registry.register_document_source(
        zone.DocumentSource(key="signed", label="Signed requests", documents=documents_of(1, kind="Signed"), order=10)
    )

    page = login_as(cast.client1).get(reverse("clients:documents"))

    assert page.status_code == 200
    sections = page.context["sections"]
    assert [s.source.key for s in sections] == ["signed", "statements"]
    assert [d.title for d in sections[1].documents] == ["Statement C1001-1", "Statement C1001-2", "Statement C1001-3"]
    text = page.text
    assert text.index('data-testid="documents-signed"') < text.index('data-testid="documents-statements"')
    assert 'href="/files/C1001/2.pdf"' in text
    assert text.count('data-testid="new-badge"') == 3  # documents 1 and 3 of the statements, 1 of the signed


def test_a_source_without_documents_says_so_in_its_own_words(cast, book, login_as, registry):
    registry.register_document_source(
        zone.DocumentSource(key="statements", label="Statements", documents=documents_of(0), empty_text="None yet.")
    )
    registry.register_document_source(zone.DocumentSource(key="other", label="Other", documents=documents_of(0)))

    page = login_as(cast.client1).get(reverse("clients:documents"))

    assert page.status_code == 200
    assert "None yet." in page.text
    assert "No documents of this kind yet." in page.text


def test_the_kind_filter_shows_one_source_page_by_page(cast, book, login_as, registry):
    registry.register_document_source(
        zone.DocumentSource(key="statements", label="Statements", documents=documents_of(30))
    )
    registry.register_document_source(zone.DocumentSource(key="signed", label="Signed", documents=documents_of(2)))
    client = login_as(cast.client1)

    everything = client.get(reverse("clients:documents"))
    statements = everything.context["sections"][1]
    assert len(statements.documents) == 10 and statements.more
    assert 'href="?kind=statements"' in everything.text

    first = client.get(reverse("clients:documents"), {"kind": "statements"})
    assert [s.source.key for s in first.context["sections"]] == ["statements"]
    assert len(first.context["sections"][0].documents) == 25
    assert "page=2" in first.text
    second = client.get(reverse("clients:documents"), {"kind": "statements", "page": "2"})
    assert [d.title for d in second.context["sections"][0].documents] == [f"Statement C1001-{n}" for n in range(26, 31)]
    assert not second.context["sections"][0].more
    for bad_page in ("0", "-3", "x", ""):
        assert client.get(reverse("clients:documents"), {"kind": "statements", "page": bad_page}).context["page"] == 1


def test_an_unknown_kind_is_a_clear_error(cast, book, login_as, registry):
    registry.register_document_source(
        zone.DocumentSource(key="statements", label="Statements", documents=documents_of(2))
    )

    page = login_as(cast.client1).get(reverse("clients:documents"), {"kind": "nonsense"})

    assert page.status_code == 400
    assert "There is no such kind of document." in page.text
    assert page.context["sections"] == []
    assert 'href="?kind=statements"' in page.text  # the kinds that exist, to choose from


def test_a_source_is_asked_only_for_the_documents_shown(cast, book, login_as, registry):
    taken = []

    def documents(client):
        for n in range(1000):
            taken.append(n)
            yield zone.ZoneDocument(title=f"D{n}", kind="K", date=datetime.date(2026, 1, 1), url="/x.pdf")

    registry.register_document_source(zone.DocumentSource(key="many", label="Many", documents=documents))

    login_as(cast.client1).get(reverse("clients:documents"))

    assert len(taken) == 11  # ten shown, one to know there are more


# --- my adviser -----------------------------------------------------------------------------


def test_the_adviser_page_shows_name_firm_email_and_phone(cast, book, login_as):
    page = login_as(cast.client1).get(reverse("clients:adviser"))

    assert page.status_code == 200
    text = page.text
    assert 'data-testid="adviser-name">Boris Brandt<' in text
    assert 'data-testid="adviser-firm">Alpha Invest<' in text
    assert 'href="mailto:broker1@example.com"' in text
    assert 'href="tel:+4915100000004"' in text


def test_without_an_adviser_the_page_says_so(cast, book, login_as):
    page = login_as(cast.client3).get(reverse("clients:adviser"))

    assert page.status_code == 200
    assert 'data-testid="no-adviser"' in page.text
    assert 'data-testid="adviser-name"' not in page.text


def test_an_adviser_who_left_is_not_shown_as_the_contact(cast, book, login_as):
    cast.broker1.is_active = False
    cast.broker1.save()

    page = login_as(cast.client1).get(reverse("clients:adviser"))

    assert 'data-testid="no-adviser"' in page.text
    assert "broker1@example.com" not in page.text


# --- who reaches what -----------------------------------------------------------------------


@pytest.mark.parametrize("url_name", ZONE_PAGES)
def test_each_client_sees_only_their_own_record(cast, book, login_as, registry, url_name):
    registry.register_home_panel(panel("p"))
    registry.register_document_source(zone.DocumentSource(key="s", label="S", documents=documents_of(2)))

    for user, own, foreign in ((cast.client1, book.anna, book.bert), (cast.client2, book.bert, book.anna)):
        page = login_as(user).get(reverse(url_name))
        assert page.status_code == 200, (user, url_name)
        assert page.context["client"] == own
        if url_name != "clients:adviser":
            assert own.number in page.text
            assert foreign.number not in page.text and foreign.name not in page.text


@pytest.mark.parametrize("url_name", ZONE_PAGES)
@pytest.mark.parametrize("user", ["broker1", "broker3", "manager", "backoffice", "admin", "outsider"])
def test_anybody_without_a_client_record_gets_404(cast, book, login_as, url_name, user):
    assert login_as(getattr(cast, user)).get(reverse(url_name)).status_code == 404


@pytest.mark.parametrize("url_name", ZONE_PAGES)
def test_a_visitor_is_sent_to_log_in(client, book, url_name):
    response = client.get(reverse(url_name))

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


@pytest.mark.parametrize("url_name", ZONE_PAGES)
def test_a_client_login_not_linked_to_a_record_is_told_so(cast, login_as, url_name):
    newcomer = UserFactory(email="newcomer@example.com", roles=[Role.CLIENT])

    page = login_as(newcomer).get(reverse(url_name))

    assert page.status_code == 200
    assert 'data-testid="not-linked"' in page.text


@pytest.mark.parametrize("url_name", ZONE_PAGES)
def test_the_pages_only_read(cast, book, login_as, url_name):
    assert login_as(cast.client1).post(reverse(url_name)).status_code == 405


def test_a_client_record_no_longer_in_the_client_role_is_not_reached(cast, book, login_as):
    cast.client1.groups.clear()

    assert login_as(cast.client1).get(reverse("clients:adviser")).status_code == 404


def test_the_zone_menu_is_in_its_order_with_the_current_page_highlighted(cast, book, login_as):
    page = login_as(cast.client1).get(reverse("clients:documents"))

    order = ["Home", "Portfolio", "Documents to sign", "Documents", "My adviser", "Profile"]
    labels = [str(item["label"]) for item in navigation.items_for(cast.client1)]
    present = [label for label in labels if label in order]
    assert present == [label for label in order if label in present]
    assert {"Home", "Documents to sign", "Documents", "My adviser"} <= set(present)
    assert '<a class="nav-link active" aria-current="page" href="/client/documents/">Documents</a>' in page.text


# --- query budgets --------------------------------------------------------------------------


@pytest.mark.parametrize("url_name", ZONE_PAGES)
def test_the_pages_run_the_same_number_of_queries_with_more_documents(
    cast, book, login_as, registry, django_assert_max_num_queries, url_name
):
    sizes = {"count": 2}
    registry.register_home_panel(panel("p"))
    registry.register_document_source(
        zone.DocumentSource(key="s", label="S", documents=lambda client: documents_of(sizes["count"])(client))
    )
    client = login_as(cast.client1)
    with CaptureQueriesContext(connection) as small:
        assert client.get(reverse(url_name)).status_code == 200

    sizes["count"] = 40
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(reverse(url_name)).status_code == 200
