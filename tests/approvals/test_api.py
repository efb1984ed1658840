"""The approvals API for staff keys: list and filter, approve, reject; the maker refused; a kind that
needs a second factor refused to a key with a clear 403."""

import pytest
from django.core.cache import cache
from django.test import Client

from portal.approvals.models import Approval
from tests.api_keys.conftest import auth, key_for

from .conftest import request_credit, request_limit

pytestmark = pytest.mark.django_db
LIST = "/api/v1/approvals/"


def url(approval, action: str) -> str:
    return f"/api/v1/approvals/{approval.pk}/{action}/"


@pytest.fixture
def keys(cast, staff):
    cache.clear()
    return {
        "backoffice": key_for(cast.backoffice, {"approvals": "write"})[1],
        "admin": key_for(cast.admin, {"approvals": "write"})[1],
        "read_only": key_for(cast.backoffice, {"approvals": "read"}, name="read")[1],
        "other_scope": key_for(cast.backoffice, {"commissions": "read"}, name="other")[1],
        "broker": key_for(cast.broker1, {"approvals": "write"})[1],
    }


def post(secret, target, body=None, **headers):
    return Client().post(target, body or {}, content_type="application/json", **auth(secret), **headers)


def test_the_list_filters_by_kind_and_state_and_carries_the_seed_columns(cast, kinds, keys):
    limit = request_limit(cast)
    credit = request_credit(cast)
    response = Client().get(LIST, {"kind": "tests.credit"}, **auth(keys["backoffice"]))
    body = response.json()
    assert response.status_code == 200, body
    assert [row["id"] for row in body["results"]] == [credit.pk]
    row = body["results"][0]
    for column in ("approved_by", "rejected_by", "approved_at", "rejected_at", "rejection_reason"):
        assert column in row
    ids = {r["id"] for r in Client().get(LIST, {"state": "pending"}, **auth(keys["backoffice"])).json()["results"]}
    assert ids == {limit.pk, credit.pk}
    bad = Client().get(LIST, {"state": "bogus"}, **auth(keys["backoffice"]))
    assert bad.status_code == 400 and "state" in bad.json()["error"]["details"]


def test_a_key_approves_a_kind_without_second_factor_once(cast, kinds, keys):
    credit = request_credit(cast)
    response = post(keys["backoffice"], url(credit, "approve"), {"reason": "ok"}, HTTP_IDEMPOTENCY_KEY="a-1")
    assert response.status_code == 200
    assert response.json()["state"] == "approved" and response.json()["approved_by"] == [cast.backoffice.email]
    again = post(keys["backoffice"], url(credit, "approve"), {"reason": "ok"}, HTTP_IDEMPOTENCY_KEY="a-1")
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert Approval.objects.get(pk=credit.pk).decisions.count() == 1


def test_a_key_cannot_decide_a_kind_that_needs_a_second_factor(cast, kinds, keys):
    limit = request_limit(cast)
    for action, body in (("approve", {}), ("reject", {"reason": "no"})):
        response = post(keys["backoffice"], url(limit, action), body)
        assert response.status_code == 403
        error = response.json()["error"]
        assert error["code"] == "second_factor_required" and "API key cannot prove" in error["message"]
    assert Approval.objects.get(pk=limit.pk).state == Approval.State.PENDING


def test_the_maker_is_refused_through_the_api(cast, kinds, keys):
    credit = request_credit(cast)
    response = post(keys["admin"], url(credit, "approve"))
    assert response.status_code == 400
    assert "someone else must decide it" in response.json()["error"]["message"]
    assert Approval.objects.get(pk=credit.pk).state == Approval.State.PENDING


def test_a_rejection_needs_a_reason_through_the_api(cast, kinds, keys):
    credit = request_credit(cast)
    response = post(keys["backoffice"], url(credit, "reject"), {})
    assert response.status_code == 400 and "reason" in response.json()["error"]["details"]
    ok = post(keys["backoffice"], url(credit, "reject"), {"reason": "Income not proven"})
    assert ok.status_code == 200 and ok.json()["rejected_by"] == cast.backoffice.email
    assert ok.json()["rejection_reason"] == "Income not proven"


def test_keys_without_the_scope_or_role_reach_nothing(cast, kinds, keys):
    credit = request_credit(cast)
    assert post(keys["read_only"], url(credit, "approve")).json()["error"]["code"] == "scope_denied"
    assert Client().get(LIST, **auth(keys["other_scope"])).status_code == 403
    assert Client().get(LIST, **auth(keys["broker"])).status_code == 403
    assert post(keys["broker"], url(credit, "approve")).status_code == 403
    assert Client().get(LIST, **auth(keys["read_only"])).status_code == 200
    assert Approval.objects.get(pk=credit.pk).state == Approval.State.PENDING


def test_a_verified_session_may_decide_a_second_factor_kind_through_the_api(cast, kinds, login_as):
    limit = request_limit(cast)
    response = login_as(cast.backoffice).post(url(limit, "approve"), {}, content_type="application/json")
    assert response.status_code == 200 and response.json()["state"] == "approved"
