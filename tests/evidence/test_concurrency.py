"""Parallel requests and builds on PostgreSQL: one pack from many clicks, one ZIP from many workers.

Each thread has its own database connection, as parallel web requests and workers do; a barrier
releases them together so they really meet at the locks.
"""

import pytest

from portal.audit.models import AuditEvent
from portal.evidence import building, services
from portal.evidence.models import EvidencePack
from tests.parallel import in_parallel

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_ten_parallel_requests_for_one_case_make_one_pack(cast, signed, compliance, monkeypatch):
    # The builds are not queued: the requests meet while the first pack is still on its way.
    monkeypatch.setattr(services, "_build_publish", lambda pack_id: None)
    actors = [cast.backoffice, compliance] * 5

    outcomes = in_parallel(10, lambda n: services.evidence_pack_request(actor=actors[n], obj=signed))

    assert all(isinstance(o, EvidencePack) for o in outcomes), outcomes
    assert len({o.pk for o in outcomes}) == 1
    assert EvidencePack.objects.count() == 1
    assert AuditEvent.objects.filter(action="evidence.pack_requested").count() == 1


def test_five_parallel_workers_build_the_pack_once(cast, signed, monkeypatch, settings):
    monkeypatch.setattr(services, "_build_publish", lambda pack_id: None)
    pack = services.evidence_pack_request(actor=cast.backoffice, obj=signed)

    outcomes = in_parallel(5, lambda n: building.evidence_pack_build(pack.pk))

    built = [o for o in outcomes if isinstance(o, EvidencePack)]
    assert len(built) == 1 and outcomes.count(None) == 4, outcomes
    assert built[0].state == EvidencePack.State.READY
    assert len(list((settings.MEDIA_ROOT / "evidence").rglob("*.zip"))) == 1
    assert AuditEvent.objects.filter(action="evidence.pack_built").count() == 1
