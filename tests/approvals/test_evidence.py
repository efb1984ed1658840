"""The evidence pack's approvals section lists every approval of the case with each decision and reason."""

import pytest

from portal.approvals import services
from portal.evidence.registry import evidence_sections

from .conftest import request_limit

pytestmark = pytest.mark.django_db


def section_for(obj):
    provider = next(p for p in evidence_sections() if p.key == "approvals")
    return provider.build(obj)


def test_a_case_without_approvals_has_no_section(cast, kinds):
    assert section_for(cast.beta) is None


def test_every_approval_and_decision_is_listed_with_its_reason(cast, kinds, staff):
    first = request_limit(cast)
    services.approval_reject(
        actor=cast.backoffice, approval_id=first.pk, reason="Totals look wrong", second_factor_verified=True
    )
    second = request_limit(cast)
    services.approval_approve(actor=staff.backoffice2, approval_id=second.pk, second_factor_verified=True)
    section = section_for(cast.alpha)
    assert section.key == "approvals" and len(section.rows) == 2
    decision = dict(zip(section.columns, section.rows[0], strict=True))
    assert decision["Decision"] == "Rejected" and decision["Reason"] == "Totals look wrong"
    assert decision["By"] == cast.backoffice.get_full_name() and decision["Maker"] == cast.admin.get_full_name()
    assert dict(zip(section.columns, section.rows[1], strict=True))["State"] == "Approved"
