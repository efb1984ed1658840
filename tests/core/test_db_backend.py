"""Persistent connections are checked for health without a round trip per request (portal/postgresql)."""

import time

import psycopg
import pytest
from django.db import connection

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def _next_request():
    """What Django does when a request starts (the test client leaves it out)."""
    connection.close_if_unusable_or_obsolete()


def _server_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_a_healthy_connection_is_reused_without_asking_the_server(monkeypatch):
    pid = _server_pid()
    asked = []
    monkeypatch.setattr(connection, "is_usable", lambda: asked.append(1) or True)

    for _ in range(5):
        _next_request()
        assert _server_pid() == pid

    assert asked == []


def test_a_connection_the_server_ended_is_replaced_before_the_next_query():
    pid = _server_pid()
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        dbname=settings["NAME"],
        autocommit=True,
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    time.sleep(0.2)  # the server's goodbye reaches our socket

    _next_request()
    new_pid = _server_pid()  # no OperationalError: the dead connection was noticed and replaced

    assert new_pid != pid
