"""/backoffice/: every kind's open items for the staff who hold its roles, filtered, sorted, exported,
claimed, assigned and released; nobody else reaches it, and bad input changes nothing."""

import csv
import io
import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.inbox.models import WorkItem
from portal.inbox.services import work_item_claim, work_item_close

from .conftest import CREDIT, SIGNED, case, signed_case

pytestmark = pytest.mark.django_db

LIST = reverse("inbox:list")
EXPORT = reverse("inbox:export")


def subjects(response) -> list[str]:
    return [
        row.split(">", 1)[1]
        for row in response.text.split('data-testid="inbox-item-link"')[1:]
        for row in [row.split("<", 1)[0]]
    ]


def exported(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


class TestAccess:
    @pytest.mark.parametrize("user", ["broker1", "manager", "client1", "partner", "merchant", "outsider"])
    def test_nobody_without_a_kinds_role_reaches_the_inbox_or_its_buttons(self, cast, login_as, user):
        item = signed_case(1)
        client = login_as(getattr(cast, user))
        assert client.get(LIST).status_code == 403
        assert client.get(EXPORT).status_code == 403
        for name in ("inbox:item-claim", "inbox:item-release"):
            assert client.post(reverse(name, args=[item.pk])).status_code == 403
        assert (
            client.post(reverse("inbox:item-assign", args=[item.pk]), {"assignee": cast.broker1.pk}).status_code == 403
        )
        assert WorkItem.objects.get(pk=item.pk).assignee is None

    def test_a_visitor_is_asked_to_log_in(self, client):
        response = client.get(LIST)
        assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))

    def test_an_analyst_sees_only_their_queue_and_a_foreign_item_does_not_exist_for_them(
        self, cast, login_as, credit_kind, analyst
    ):
        signed, mine, sales = signed_case(1), case(2), case(3, queue="sales")
        client = login_as(analyst)
        page = client.get(LIST)
        assert subjects(page) == ["Case 2"]
        assert f"item-{signed.pk}" not in page.text and f"item-{sales.pk}" not in page.text
        assert [row[1] for row in exported(client.get(EXPORT))[1:]] == ["Case 2"]
        for item in (signed, sales):
            assert client.post(reverse("inbox:item-claim", args=[item.pk])).status_code == 404
        assert not WorkItem.objects.filter(assignee=analyst).exists()
        assert mine.pk

    def test_the_back_office_sees_both_kinds_each_linking_to_its_apps_page(self, cast, login_as, credit_kind):
        signed_case(1, url="/signing/backoffice/1/")
        case(2, url="/credit/cases/2/")
        page = login_as(cast.backoffice).get(LIST)
        assert page.status_code == 200
        assert subjects(page) == ["Case 1", "Case 2"]
        assert 'href="/signing/backoffice/1/"' in page.text and 'href="/credit/cases/2/"' in page.text
        assert "Signed request" in page.text and "Credit case" in page.text


class TestFilters:
    def test_kind_assignment_overdue_sorting_and_closed(self, cast, login_as, credit_kind):
        now = timezone.now()
        old = signed_case(1, opened_at=now - timedelta(days=5), due_in=timedelta(days=-1))
        signed_case(2, opened_at=now - timedelta(days=1), due_in=timedelta(hours=2))
        case(3, opened_at=now - timedelta(days=3))
        work_item_claim(actor=cast.backoffice, item_id=old.pk)
        closed = signed_case(4)
        work_item_close(kind=SIGNED, obj=closed.obj, state="Processed")
        client = login_as(cast.backoffice)

        assert subjects(client.get(LIST)) == ["Case 1", "Case 3", "Case 2"]
        assert subjects(client.get(LIST, {"sort": "-age"})) == ["Case 2", "Case 3", "Case 1"]
        assert subjects(client.get(LIST, {"sort": "due"})) == ["Case 1", "Case 2", "Case 3"]
        assert subjects(client.get(LIST, {"kind": SIGNED})) == ["Case 1", "Case 2"]
        assert subjects(client.get(LIST, {"kind": CREDIT})) == ["Case 3"]
        assert subjects(client.get(LIST, {"assigned": "me"})) == ["Case 1"]
        assert subjects(client.get(LIST, {"assigned": "unassigned"})) == ["Case 3", "Case 2"]
        overdue = client.get(LIST, {"overdue": "on"})
        assert subjects(overdue) == ["Case 1"] and 'data-testid="overdue"' in overdue.text
        shut = client.get(LIST, {"status": "closed"})
        assert subjects(shut) == ["Case 4"] and ">Processed<" in shut.text and 'data-testid="claim"' not in shut.text

    @pytest.mark.parametrize(
        "query", [{"kind": "nobody.knows"}, {"assigned": "them"}, {"sort": "size"}, {"status": "lost"}]
    )
    def test_a_bad_filter_is_a_clear_error_with_no_rows_on_the_page_and_the_export(self, cast, login_as, query):
        signed_case(1)
        client = login_as(cast.backoffice)
        page = client.get(LIST, query)
        assert page.status_code == 400
        assert "Select a valid choice." in page.text and subjects(page) == []
        export = client.get(EXPORT, query)
        assert export.status_code == 400
        assert json.loads(export.content)["error"]["message"] == "The filter has invalid values."

    def test_an_analyst_cannot_filter_for_a_kind_that_is_not_theirs(self, cast, login_as, credit_kind, analyst):
        signed_case(1)
        assert login_as(analyst).get(LIST, {"kind": SIGNED}).status_code == 400

    def test_the_export_has_every_filtered_item_on_all_pages(self, cast, login_as, credit_kind):
        for n in range(30):
            signed_case(n, party=f"Client {n}")
        case(99)
        rows = exported(login_as(cast.backoffice).get(EXPORT, {"kind": SIGNED}))
        assert rows[0][:4] == ["Kind", "Subject", "Customer or partner", "Queue"]
        assert len(rows) == 31 and {row[0] for row in rows[1:]} == {"Signed request"}
        assert rows[1][9].startswith("http://testserver/somewhere/")


class TestButtons:
    def test_claim_then_release_from_the_page(self, cast, login_as):
        item = signed_case(1)
        client = login_as(cast.backoffice)
        back = f"{LIST}?kind={SIGNED}"
        response = client.post(reverse("inbox:item-claim", args=[item.pk]), {"next": back}, follow=True)
        assert response.redirect_chain[-1][0] == back
        assert "You have the item now." in response.text and 'data-testid="release"' in response.text
        assert WorkItem.objects.get(pk=item.pk).assignee == cast.backoffice
        client.post(reverse("inbox:item-release", args=[item.pk]))
        assert WorkItem.objects.get(pk=item.pk).assignee is None

    def test_an_htmx_claim_answers_the_items_row(self, cast, login_as):
        item = signed_case(1)
        client = login_as(cast.backoffice)
        row = client.post(reverse("inbox:item-claim", args=[item.pk]), headers={"HX-Request": "true"})
        assert row.status_code == 200 and row.text.lstrip().startswith(f'<tr id="item-{item.pk}"')
        assert "<strong>You</strong>" in row.text and "You have the item now." in row.text

    def test_a_claim_on_a_taken_item_says_who_has_it_and_changes_nothing(self, cast, login_as):
        item = signed_case(1)
        work_item_claim(actor=cast.admin, item_id=item.pk)
        client = login_as(cast.backoffice)
        row = client.post(reverse("inbox:item-claim", args=[item.pk]), headers={"HX-Request": "true"})
        assert 'data-testid="item-error"' in row.text and "has already claimed this item" in row.text
        page = client.post(reverse("inbox:item-claim", args=[item.pk]), follow=True)
        assert "has already claimed this item" in page.text
        assert WorkItem.objects.get(pk=item.pk).assignee == cast.admin

    def test_the_colleague_choice_lists_holders_of_the_kinds_role_and_assigns(
        self, cast, login_as, credit_kind, analyst
    ):
        signed = signed_case(1)
        credit = case(2)
        client = login_as(cast.backoffice)
        page = client.get(LIST).text
        signed_row = page.split(f'id="item-{signed.pk}"')[1].split("</tr>")[0]
        credit_row = page.split(f'id="item-{credit.pk}"')[1].split("</tr>")[0]
        assert f'value="{cast.admin.pk}"' in signed_row and f'value="{analyst.pk}"' not in signed_row
        assert f'value="{analyst.pk}"' in credit_row
        assert f'value="{cast.broker1.pk}"' not in page
        client.post(reverse("inbox:item-assign", args=[credit.pk]), {"assignee": analyst.pk})
        assert WorkItem.objects.get(pk=credit.pk).assignee == analyst

    @pytest.mark.parametrize("value", ["", "abc"])
    def test_assigning_without_a_colleague_is_a_clear_error(self, cast, login_as, value):
        item = signed_case(1)
        response = login_as(cast.backoffice).post(
            reverse("inbox:item-assign", args=[item.pk]), {"assignee": value}, follow=True
        )
        assert "Choose a colleague from the list." in response.text
        assert WorkItem.objects.get(pk=item.pk).assignee is None

    def test_a_foreign_next_address_is_ignored(self, cast, login_as):
        item = signed_case(1)
        response = login_as(cast.backoffice).post(
            reverse("inbox:item-claim", args=[item.pk]), {"next": "https://evil.example/"}
        )
        assert response["Location"] == LIST

    def test_buttons_answer_only_post(self, cast, login_as):
        item = signed_case(1)
        assert login_as(cast.backoffice).get(reverse("inbox:item-claim", args=[item.pk])).status_code == 405


class TestShell:
    def test_staff_get_the_menu_entry_with_the_count_and_others_neither(self, cast, login_as):
        signed_case(1)
        signed_case(2)
        page = login_as(cast.backoffice).get(reverse("notifications:list")).text
        nav = page.split('data-testid="role-nav"')[1].split("</ul>")[0]
        assert f'href="{LIST}"' in nav and 'data-testid="inbox-count">2<' in nav
        broker = login_as(cast.broker1).get(reverse("notifications:list")).text
        assert f'href="{LIST}"' not in broker and "inbox-count" not in broker

    def test_the_count_follows_a_claim_elsewhere_and_a_closed_item(self, cast, login_as):
        first = signed_case(1)
        signed_case(2)
        client = login_as(cast.backoffice)
        assert 'data-testid="inbox-count">2<' in client.get(LIST).text
        work_item_close(kind=SIGNED, obj=first.obj)
        assert 'data-testid="inbox-count">1<' in client.get(LIST).text

    def test_the_home_counter_opens_the_inbox_filtered_to_its_kind(self, cast, login_as, credit_kind):
        case(1)
        html = login_as(cast.backoffice).get(reverse("shell:role-home", kwargs={"role": "backoffice"})).text
        assert f'href="{LIST}?kind={CREDIT}"' in html and "Credit cases waiting" in html


class TestQueryBudget:
    @pytest.mark.parametrize("query", [{}, {"kind": SIGNED, "assigned": "unassigned", "sort": "due"}])
    def test_the_page_runs_the_same_queries_for_3_and_60_items_over_two_kinds(
        self, cast, login_as, credit_kind, analyst, django_assert_max_num_queries, query
    ):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        client = login_as(cast.backoffice)

        def grow(total):
            n = WorkItem.objects.count()
            while n < total:
                item = signed_case(n, due_in=timedelta(hours=n - 30)) if n % 2 else case(n)
                if n % 3 == 0:
                    work_item_claim(actor=cast.admin, item_id=item.pk)
                n += 1

        grow(3)
        client.get(LIST, query)  # the header's count, as on any page after a change
        with CaptureQueriesContext(connection) as few:
            assert client.get(LIST, query).status_code == 200
        budget = len(few.captured_queries)  # now: the next capture starts the log afresh
        grow(60)
        client.get(LIST, query)
        with django_assert_max_num_queries(budget):
            page = client.get(LIST, query)
        assert page.status_code == 200 and len(subjects(page)) >= 3


class TestAdmin:
    def test_admin_lists_items_through_the_policy_and_edits_none(self, cast, login_as, credit_kind):
        item = signed_case(1)
        client = login_as(cast.admin)
        changelist = client.get(reverse("admin:inbox_workitem_changelist"))
        assert changelist.status_code == 200 and "Case 1" in changelist.text
        change = reverse("admin:inbox_workitem_change", args=[item.pk])
        assert client.post(change, {"subject": "Changed", "assignee": cast.admin.pk}).status_code == 403
        assert WorkItem.objects.get(pk=item.pk).subject == "Case 1"
        assert login_as(cast.backoffice).get(reverse("admin:inbox_workitem_changelist")).status_code == 403
