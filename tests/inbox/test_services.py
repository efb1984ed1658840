"""Opening and closing items (the owning apps' calls) and claiming, assigning and releasing them (the
back office's), each refused cleanly where it must be, audited where it is the back office's act."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from portal.audit.models import AuditEvent
from portal.inbox import services
from portal.inbox.models import WorkItem
from portal.inbox.selectors import inbox_count, inbox_items
from tests.factories import OrganisationFactory, UserFactory

from .conftest import CREDIT, SIGNED, case, signed_case

pytestmark = pytest.mark.django_db


def audits(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


class TestOpenAndClose:
    def test_opening_twice_keeps_one_item_with_the_newest_details_its_age_and_its_assignee(self, cast):
        item = signed_case(1, subject="First title")
        services.work_item_claim(actor=cast.backoffice, item_id=item.pk)
        again = services.work_item_open(
            kind=SIGNED, obj=item.obj, subject="Second title", url=item.url, state="Still waiting"
        )
        assert WorkItem.objects.count() == 1
        assert (again.pk, again.subject, again.state, again.opened_at) == (
            item.pk,
            "Second title",
            "Still waiting",
            item.opened_at,
        )
        assert again.assignee == cast.backoffice

    def test_closing_takes_the_item_off_the_open_list_and_a_second_close_changes_nothing(self, cast):
        item = signed_case(1)
        services.work_item_close(kind=SIGNED, obj=item.obj, state="Processed")
        closed = WorkItem.objects.get(pk=item.pk)
        assert closed.closed_at is not None and closed.state == "Processed"
        services.work_item_close(kind=SIGNED, obj=item.obj, state="Returned")
        assert WorkItem.objects.get(pk=item.pk).closed_at == closed.closed_at
        assert WorkItem.objects.get(pk=item.pk).state == "Processed"
        services.work_item_close(kind=SIGNED, obj=OrganisationFactory(name="never opened"))  # nothing to close
        assert not inbox_items(actor=cast.backoffice).exists()

    def test_a_closed_item_opens_afresh_without_its_old_assignee(self, cast):
        item = signed_case(1, opened_at=timezone.now() - timedelta(days=3))
        services.work_item_claim(actor=cast.backoffice, item_id=item.pk)
        services.work_item_close(kind=SIGNED, obj=item.obj)
        reopened = services.work_item_open(kind=SIGNED, obj=item.obj, subject=item.subject, url=item.url)
        assert reopened.pk == item.pk and reopened.closed_at is None and reopened.assignee is None
        assert reopened.opened_at > item.opened_at

    def test_a_kind_nobody_registered_is_a_programming_error(self, cast):
        with pytest.raises(LookupError):
            services.work_item_open(kind="nobody.knows", obj=cast.alpha, subject="x", url="/")
        assert not WorkItem.objects.exists()


class TestClaim:
    def test_a_claim_makes_the_actor_the_assignee_and_is_audited(self, cast):
        item = signed_case(1)
        claimed = services.work_item_claim(actor=cast.backoffice, item_id=item.pk)
        assert claimed.assignee == cast.backoffice and claimed.assigned_at is not None
        [event] = audits("inbox.item_claimed")
        assert (event.actor, event.object_id, event.changes) == (
            cast.backoffice,
            str(item.pk),
            {"assignee": ["", cast.backoffice.email]},
        )

    def test_an_item_somebody_has_is_refused_to_the_next_and_nothing_changes(self, cast):
        item = signed_case(1)
        services.work_item_claim(actor=cast.backoffice, item_id=item.pk)
        with pytest.raises(ValidationError) as refused:
            services.work_item_claim(actor=cast.admin, item_id=item.pk)
        assert refused.value.code == "taken" and "has already claimed this item" in refused.value.messages[0]
        assert WorkItem.objects.get(pk=item.pk).assignee == cast.backoffice
        assert len(audits("inbox.item_claimed")) == 1

    def test_claiming_ones_own_item_again_changes_nothing(self, cast):
        item = signed_case(1)
        services.work_item_claim(actor=cast.backoffice, item_id=item.pk)
        services.work_item_claim(actor=cast.backoffice, item_id=item.pk)
        assert len(audits("inbox.item_claimed")) == 1

    def test_a_closed_item_cannot_be_claimed(self, cast):
        item = signed_case(1)
        services.work_item_close(kind=SIGNED, obj=item.obj)
        with pytest.raises(ValidationError) as refused:
            services.work_item_claim(actor=cast.backoffice, item_id=item.pk)
        assert refused.value.code == "closed"
        assert WorkItem.objects.get(pk=item.pk).assignee is None

    @pytest.mark.parametrize("user", ["broker1", "manager", "client1", "partner", "outsider"])
    def test_whoever_does_not_see_the_item_gets_404(self, cast, user):
        item = signed_case(1)
        with pytest.raises(Http404):
            services.work_item_claim(actor=getattr(cast, user), item_id=item.pk)
        assert WorkItem.objects.get(pk=item.pk).assignee is None

    def test_an_analyst_claims_credit_cases_of_their_queue_only(self, cast, credit_kind, analyst):
        mine, other_queue, signed = case(1), case(2, queue="sales"), signed_case(3)
        services.work_item_claim(actor=analyst, item_id=mine.pk)
        for item in (other_queue, signed):
            with pytest.raises(Http404):
                services.work_item_claim(actor=analyst, item_id=item.pk)
        assert list(WorkItem.objects.filter(assignee=analyst)) == [mine]


class TestAssignAndRelease:
    def test_an_item_goes_to_a_colleague_holding_the_kinds_role(self, cast):
        item = signed_case(1)
        services.work_item_claim(actor=cast.backoffice, item_id=item.pk)
        services.work_item_assign(actor=cast.backoffice, item_id=item.pk, assignee_id=cast.admin.pk)
        assert WorkItem.objects.get(pk=item.pk).assignee == cast.admin
        [event] = audits("inbox.item_assigned")
        assert event.changes == {"assignee": [cast.backoffice.email, cast.admin.email]}

    @pytest.mark.parametrize("who", ["broker1", "client1", "analyst"])
    def test_someone_without_the_kinds_role_is_refused_and_nothing_changes(self, cast, analyst, who):
        item = signed_case(1)
        person = analyst if who == "analyst" else getattr(cast, who)
        with pytest.raises(ValidationError) as refused:
            services.work_item_assign(actor=cast.backoffice, item_id=item.pk, assignee_id=person.pk)
        assert refused.value.code == "assignee" and "cannot take this item" in refused.value.messages[0]
        assert WorkItem.objects.get(pk=item.pk).assignee is None and not audits("inbox.item_assigned")

    def test_an_analyst_cannot_be_given_a_case_outside_their_queue(self, cast, credit_kind, analyst):
        sales = case(1, queue="sales")
        with pytest.raises(ValidationError):
            services.work_item_assign(actor=cast.backoffice, item_id=sales.pk, assignee_id=analyst.pk)
        credit = case(2)
        services.work_item_assign(actor=cast.backoffice, item_id=credit.pk, assignee_id=analyst.pk)
        assert WorkItem.objects.get(pk=credit.pk).assignee == analyst

    @pytest.mark.parametrize("assignee_id", [None, "x", 10**9])
    def test_an_unknown_or_inactive_colleague_is_refused(self, cast, assignee_id):
        item = signed_case(1)
        with pytest.raises(ValidationError) as refused:
            services.work_item_assign(actor=cast.backoffice, item_id=item.pk, assignee_id=assignee_id)
        assert refused.value.messages == ["Choose a colleague from the list."]
        gone = UserFactory(email="gone@example.com", roles=["backoffice"], is_active=False)
        with pytest.raises(ValidationError):
            services.work_item_assign(actor=cast.backoffice, item_id=item.pk, assignee_id=gone.pk)
        assert WorkItem.objects.get(pk=item.pk).assignee is None

    def test_only_the_assignee_releases_and_then_the_item_waits_for_anyone(self, cast):
        item = signed_case(1)
        services.work_item_claim(actor=cast.backoffice, item_id=item.pk)
        with pytest.raises(ValidationError) as refused:
            services.work_item_release(actor=cast.admin, item_id=item.pk)
        assert refused.value.code == "not_assignee"
        services.work_item_release(actor=cast.backoffice, item_id=item.pk)
        released = WorkItem.objects.get(pk=item.pk)
        assert released.assignee is None and released.assigned_at is None
        [event] = audits("inbox.item_released")
        assert event.changes == {"assignee": [cast.backoffice.email, ""]}


class TestCount:
    def test_the_count_is_cached_and_made_afresh_once_an_item_changes(self, cast, django_assert_num_queries):
        signed_case(1)
        assert inbox_count(actor=cast.backoffice) == 1
        with django_assert_num_queries(0):
            assert inbox_count(actor=cast.backoffice) == 1
        item = signed_case(2)
        assert inbox_count(actor=cast.backoffice) == 2
        services.work_item_close(kind=SIGNED, obj=item.obj)
        assert inbox_count(actor=cast.backoffice) == 1

    def test_a_user_without_inbox_roles_costs_nothing(self, cast, django_assert_num_queries):
        signed_case(1)
        cast.broker1.roles  # noqa: B018  (loaded, as on every page)
        with django_assert_num_queries(0):
            assert inbox_count(actor=cast.broker1) == 0

    def test_each_sees_the_count_of_their_own_kinds(self, cast, credit_kind, analyst):
        signed_case(1)
        case(2)
        case(3, queue="sales")
        assert inbox_count(actor=cast.backoffice) == 3
        assert inbox_count(actor=analyst) == 1
        assert inbox_count(actor=cast.backoffice, kind=CREDIT) == 2


class TestSync:
    def test_each_kind_with_a_sync_reopens_what_still_waits(self, cast, credit_kind):
        from portal.inbox import registry

        opened = []
        registry.register_inbox_kind(
            CREDIT, label="Credit case", roles={"backoffice"}, sync=lambda: opened.append(case(9)) or 1
        )
        assert services.work_items_sync()[CREDIT] == 1
        assert inbox_items(actor=cast.backoffice, kind=CREDIT).get() == opened[0]
