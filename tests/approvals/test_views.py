"""The approvals pages: the seed's columns on the list and in its export, a case page whose buttons
are absent for the maker, forged POSTs refused, a rejection without a reason sent back, and a list
whose query count does not grow with its length."""

import csv
import io

import pytest
from django.urls import reverse

from portal.approvals import services
from portal.approvals.models import Approval
from tests.factories import OrganisationFactory

from .conftest import request_credit, request_limit

pytestmark = pytest.mark.django_db
LIST = "/approvals/"
COLUMNS = [
    "Subject",
    "Kind",
    "Maker",
    "State",
    "Due",
    "Approved by",
    "Rejected by",
    "Approval date",
    "Rejection date",
    "Rejection reason",
]


def detail(approval) -> str:
    return reverse("approvals:approval-detail", args=[approval.pk])


def test_the_list_shows_exactly_the_seed_columns_with_who_and_when(cast, kinds, login_as):
    approved = request_limit(cast)
    services.approval_approve(actor=cast.backoffice, approval_id=approved.pk, second_factor_verified=True)
    rejected = request_credit(cast)
    services.approval_reject(
        actor=cast.backoffice, approval_id=rejected.pk, reason="Income not proven", second_factor_verified=False
    )
    response = login_as(cast.backoffice).get(LIST)
    assert response.status_code == 200
    html = response.content.decode()
    head = html[html.index("<thead>") : html.index("</thead>")]
    assert [h.split(">")[-1] for h in head.split("</th>")[:-1]] == COLUMNS
    assert "Income not proven" in html and "Firm Alpha Invest" in html


def test_the_export_has_the_same_columns_and_values(cast, kinds, login_as):
    rejected = request_credit(cast)
    services.approval_reject(
        actor=cast.backoffice, approval_id=rejected.pk, reason="Income not proven", second_factor_verified=False
    )
    response = login_as(cast.backoffice).get(reverse("approvals:approval-list-export"), {"state": "rejected"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == COLUMNS
    assert len(rows) == 2
    row = dict(zip(COLUMNS, rows[1], strict=True))
    assert row["Rejected by"] == cast.backoffice.get_full_name() and row["Rejection reason"] == "Income not proven"
    assert row["Rejection date"] and not row["Approval date"] and not row["Approved by"]
    assert row["State"] == "Rejected" and row["Kind"] == "Credit line"


def test_a_bad_filter_is_a_clear_400_on_page_and_export(cast, kinds, login_as):
    client = login_as(cast.backoffice)
    assert client.get(LIST, {"state": "bogus"}).status_code == 400
    response = client.get(reverse("approvals:approval-list-export"), {"kind": "nope"})
    assert response.status_code == 400 and "kind" in response.json()["error"]["details"]


def test_the_kind_filter_offers_the_kinds_registered_by_now_and_filters_by_one(cast, kinds, login_as):
    """The kinds are read when the page is drawn (the test's kinds were registered after start-up)."""
    limit = request_limit(cast)
    credit = request_credit(cast)
    response = login_as(cast.backoffice).get(LIST, {"kind": "tests.limit"})
    assert response.status_code == 200
    html = response.content.decode()
    assert '<option value="tests.limit" selected>Limit change</option>' in html
    assert '<option value="tests.credit">Credit line</option>' in html
    assert f'data-testid="approval-{limit.pk}"' in html
    assert f'data-testid="approval-{credit.pk}"' not in html


def test_the_filter_finds_what_waits_for_me(cast, kinds, staff, login_as):
    mine = request_credit(cast, amount="5000")
    decided_by_me = request_credit(cast, amount="5000", firm=cast.alpha)
    services.approval_approve(actor=staff.analyst, approval_id=decided_by_me.pk, second_factor_verified=False)
    html = login_as(staff.analyst).get(LIST, {"to_decide": "true"}).content.decode()
    assert f'data-testid="approval-{mine.pk}"' in html
    assert f'data-testid="approval-{decided_by_me.pk}"' not in html


def test_the_maker_sees_the_case_without_buttons_and_a_forged_post_is_refused(cast, kinds, login_as):
    approval = request_limit(cast)
    client = login_as(cast.admin)
    html = client.get(detail(approval)).content.decode()
    assert 'data-testid="approve-button"' not in html and 'data-testid="reject-button"' not in html
    assert "someone else must decide it" in html
    forged = client.post(reverse("approvals:approval-approve", args=[approval.pk]))
    assert forged.status_code == 400 and "someone else must decide it" in forged.content.decode()
    forged = client.post(reverse("approvals:approval-reject", args=[approval.pk]), {"reason": "mine"})
    assert forged.status_code == 400
    assert Approval.objects.get(pk=approval.pk).state == Approval.State.PENDING


def test_an_approver_sees_the_buttons_and_approves(cast, kinds, login_as):
    approval = request_limit(cast)
    client = login_as(cast.backoffice)
    html = client.get(detail(approval)).content.decode()
    assert 'data-testid="approve-button"' in html and 'data-testid="reject-button"' in html
    response = client.post(reverse("approvals:approval-approve", args=[approval.pk]), {"reason": "ok"})
    assert response.status_code == 302
    assert Approval.objects.get(pk=approval.pk).state == Approval.State.APPROVED


def test_an_unverified_session_is_told_and_refused(cast, kinds, login_as, settings):
    settings.PORTAL_REQUIRE_2FA = False  # as in the demo: the session may go on without a code
    approval = request_limit(cast)
    client = login_as(cast.backoffice, verified=False)
    html = client.get(detail(approval)).content.decode()
    assert 'data-testid="second-factor-notice"' in html
    response = client.post(reverse("approvals:approval-approve", args=[approval.pk]))
    assert response.status_code == 403 and "second factor" in response.content.decode()
    assert Approval.objects.get(pk=approval.pk).state == Approval.State.PENDING


def test_a_rejection_without_reason_is_sent_back_with_the_message(cast, kinds, login_as):
    approval = request_limit(cast)
    response = login_as(cast.backoffice).post(reverse("approvals:approval-reject", args=[approval.pk]), {"reason": ""})
    assert response.status_code == 400 and "Say why you reject it." in response.content.decode()
    assert Approval.objects.get(pk=approval.pk).state == Approval.State.PENDING


def test_the_maker_withdraws_from_the_page(cast, kinds, login_as):
    approval = request_limit(cast)
    assert login_as(cast.backoffice).post(reverse("approvals:approval-withdraw", args=[approval.pk])).status_code == 403
    login_as(cast.admin).post(reverse("approvals:approval-withdraw", args=[approval.pk]))
    assert Approval.objects.get(pk=approval.pk).state == Approval.State.WITHDRAWN


def test_the_menu_shows_approvals_to_staff_deciders_only(cast, kinds, login_as):
    assert 'href="/approvals/"' in login_as(cast.backoffice).get("/approvals/").content.decode()
    assert 'href="/approvals/"' not in login_as(cast.broker1).get("/commissions/").content.decode()


@pytest.mark.parametrize("size", [3, 30])
def test_the_list_costs_the_same_queries_at_any_size(cast, kinds, staff, login_as, django_assert_max_num_queries, size):
    for n in range(size):
        firm = OrganisationFactory(name=f"Firm {n}")
        approval = request_credit(cast, amount="5000", firm=firm)
        services.approval_approve(actor=staff.analyst, approval_id=approval.pk, second_factor_verified=False)
        if n % 2:
            services.approval_reject(
                actor=cast.backoffice, approval_id=approval.pk, reason="no", second_factor_verified=False
            )
    client = login_as(cast.backoffice)
    with django_assert_max_num_queries(9):
        assert client.get(LIST).status_code == 200
    with django_assert_max_num_queries(9):
        response = client.get(reverse("approvals:approval-list-export"))
        assert len(b"".join(response.streaming_content).splitlines()) == size + 1
