"""Idempotency-Key under real parallelism and a real lost connection, on PostgreSQL.

Each thread has its own database connection, as parallel web requests do; a barrier releases them
together so that they really meet at the claim.
"""

import threading
import time

import pytest
from django.db import connection, transaction
from django.test import Client

from portal.api.models import IdempotencyRecord
from portal.audit.models import AuditEvent
from signing import services as signing_services
from signing.models import SignatureRequest
from tests.parallel import in_parallel

from .test_idempotency import body, key_of, post, received, replayed

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_ten_parallel_posts_with_one_key_create_one_request_and_all_get_its_answer(cast, book, settings):
    settings.PORTAL_IDEMPOTENCY_WAIT_SECONDS = 30
    erp = key_of(cast.broker1)

    outcomes = in_parallel(10, lambda n: post(Client(), body(book), credentials=erp))

    assert [type(o).__name__ for o in outcomes if isinstance(o, Exception)] == []
    assert sorted((o.status_code, replayed(o)) for o in outcomes) == [(201, False)] + [(201, True)] * 9
    assert len({o.content for o in outcomes}) == 1
    assert SignatureRequest.objects.count() == 1 and received() == 1
    assert AuditEvent.objects.filter(action="signing.request_sent").count() == 1
    assert IdempotencyRecord.objects.get().state == "done"


def test_a_repeat_while_the_first_still_runs_gets_409_in_progress_then_the_answer(cast, book, settings, monkeypatch):
    settings.PORTAL_IDEMPOTENCY_WAIT_SECONDS = 0.3
    erp = key_of(cast.broker1)
    started, release = threading.Event(), threading.Event()
    real = signing_services.signature_request_create

    def slow_create(*args, **kwargs):
        started.set()
        release.wait(timeout=30)
        return real(*args, **kwargs)

    monkeypatch.setattr(signing_services, "signature_request_create", slow_create)
    first = []

    def first_request():
        try:
            first.append(post(Client(), body(book), credentials=erp))
        finally:
            connection.close()

    thread = threading.Thread(target=first_request)
    thread.start()
    assert started.wait(timeout=30)
    during = post(Client(), body(book), credentials=erp)
    release.set()
    thread.join(timeout=60)
    after = post(Client(), body(book), credentials=erp)

    assert during.status_code == 409 and during["Retry-After"] == "1"
    assert during.json()["error"]["code"] == "idempotency_in_progress"
    assert first[0].status_code == 201 and not replayed(first[0])
    assert after.status_code == 201 and replayed(after) and after.content == first[0].content
    assert SignatureRequest.objects.count() == 1


def _terminate_own_connection():
    """Have another connection end this thread's backend (pg_terminate_backend) and wait until it is gone."""
    pid = connection.connection.info.backend_pid

    def terminate():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
                assert cursor.fetchone()[0] is True
                for _ in range(200):
                    cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
                    if cursor.fetchone()[0] == 0:
                        return
                    time.sleep(0.02)
                raise AssertionError(f"backend {pid} still alive")
        finally:
            connection.close()

    killer = threading.Thread(target=terminate)
    killer.start()
    killer.join(timeout=30)
    return pid


def test_a_connection_killed_right_after_the_commit_still_answers_201_and_a_retry_replays_it(cast, book, monkeypatch):
    erp = key_of(cast.broker1)
    real = signing_services.signature_request_send
    killed = []

    def send_then_lose_the_connection(*args, **kwargs):
        result = real(*args, **kwargs)
        transaction.on_commit(lambda: killed.append(_terminate_own_connection()))
        return result

    monkeypatch.setattr(signing_services, "signature_request_send", send_then_lose_the_connection)
    client = Client()

    response = post(client, body(book), credentials=erp)
    again = post(client, body(book), credentials=erp)

    assert len(killed) == 1 and connection.connection.info.backend_pid != killed[0]
    assert response.status_code == 201
    data = response.json()
    assert data["status"] == "sent" and data["recipient_name"] == "Anna Albers (C1001)" and data["expires_at"]
    assert again.status_code == 201 and replayed(again) and again.content == response.content
    assert SignatureRequest.objects.count() == 1 and received() == 1
