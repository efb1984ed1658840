"""The audit trail cannot be emptied or rewritten: not by the runtime role, not by TRUNCATE.

PostgreSQL only. Each test creates a throwaway login role, grants it with
`manage.py db_grant_runtime_role` (as the tests' owner role, `postgres`) and connects as it with
psycopg, as the running portal does with DATABASE_URL. The grants must be committed for that second
connection to see them, hence transactional tests; the role is dropped afterwards.
"""

import os
import subprocess
import sys
import uuid
from io import StringIO
from pathlib import Path

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from psycopg import errors, sql

from portal.audit.models import AuditEvent
from portal.audit.services import audit_record
from tests.fakes.worker import database_url

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
AUDIT = AuditEvent._meta.db_table
INSERT_EVENT = (
    "INSERT INTO audit_auditevent (created_at, actor_label, action, object_type, object_id, object_repr, changes,"
    " user_agent, request_id) VALUES (now(), 'runtime', 'test.event', '', '', '', '{}', '', '')"
)


def owner_execute(statement, *identifiers: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL(statement).format(*map(sql.Identifier, identifiers)).as_string(connection.connection))


@pytest.fixture
def make_role():
    """`make_role()` creates a login role with a unique name; every one is dropped after the test."""
    made = []

    def make(*, superuser: bool = False) -> str:
        name = f"pz_test_{uuid.uuid4().hex[:10]}"
        owner_execute("CREATE ROLE {} LOGIN" + (" SUPERUSER" if superuser else ""), name)
        made.append(name)
        return name

    yield make
    for name in made:
        owner_execute("DROP OWNED BY {}", name)  # its privileges and default privileges in this database
        owner_execute("DROP ROLE {}", name)


@pytest.fixture
def runtime_role(make_role):
    role = make_role()
    call_command("db_grant_runtime_role", role, stdout=StringIO())
    return role


@pytest.fixture
def as_runtime(runtime_role):
    """A psycopg connection to the test database as the runtime role (autocommit: one statement each)."""
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        dbname=settings["NAME"],
        user=runtime_role,
        autocommit=True,
        connect_timeout=5,
    ) as conn:
        yield conn


def refused(conn, statement: str) -> str:
    with pytest.raises(errors.InsufficientPrivilege) as refusal:
        conn.execute(statement)
    return str(refusal.value)


def test_the_runtime_role_cannot_truncate_delete_or_update_the_audit_trail(as_runtime):
    audit_record(action="test.kept", actor_label="owner")

    assert "permission denied for table" in refused(as_runtime, "TRUNCATE audit_auditevent")
    assert "permission denied for table" in refused(as_runtime, "DELETE FROM audit_auditevent")
    assert "permission denied for table" in refused(as_runtime, "UPDATE audit_auditevent SET action = 'rewritten'")

    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["test.kept"]


def test_the_runtime_role_cannot_disable_or_drop_the_audit_triggers_nor_take_the_table(as_runtime, runtime_role):
    for statement, refusal in (
        ("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_truncate", "must be owner of table"),
        ("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_update_delete", "must be owner of table"),
        ("ALTER TABLE audit_auditevent DISABLE TRIGGER ALL", "must be owner of table"),
        ("DROP TRIGGER audit_event_no_truncate ON audit_auditevent", "must be owner of relation"),
        ("DROP TRIGGER audit_event_no_update_delete ON audit_auditevent", "must be owner of relation"),
        ("DROP TABLE audit_auditevent", "must be owner of table"),
        (f'ALTER TABLE {AUDIT} OWNER TO "{runtime_role}"', "must be owner of table"),
        ("DROP FUNCTION audit_event_append_only()", "must be owner of function"),
        (
            "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$ BEGIN RETURN NULL; END; $$"
            " LANGUAGE plpgsql",
            "permission denied for schema",
        ),
        (
            "CREATE TRIGGER pz_undo BEFORE INSERT ON audit_auditevent FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()",
            "permission denied for table",
        ),
    ):
        assert refusal in refused(as_runtime, statement), statement
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal ORDER BY 1",
            [AUDIT],
        )
        assert cursor.fetchall() == [("audit_event_no_truncate", "O"), ("audit_event_no_update_delete", "O")]


def test_the_runtime_role_appends_and_reads_the_audit_trail(as_runtime):
    as_runtime.execute(INSERT_EVENT)
    assert as_runtime.execute("SELECT action FROM audit_auditevent").fetchall() == [("test.event",)]
    assert AuditEvent.objects.get().actor_label == "runtime"


def test_the_runtime_role_reads_and_writes_the_other_tables_and_their_sequences(as_runtime):
    as_runtime.execute("INSERT INTO core_workerheartbeat (name, seen_at) VALUES ('celery@one', now())")
    as_runtime.execute("UPDATE core_workerheartbeat SET seen_at = now() WHERE name = 'celery@one'")
    as_runtime.execute(
        "INSERT INTO django_session (session_key, session_data, expire_date) VALUES ('k1', 'data', now())"
    )
    as_runtime.execute("DELETE FROM django_session WHERE session_key = 'k1'")
    assert as_runtime.execute("SELECT name FROM core_workerheartbeat").fetchall() == [("celery@one",)]
    assert as_runtime.execute("SELECT count(*) FROM django_session").fetchone() == (0,)
    # Tables created by a later migration are covered by the default privileges.
    owner_execute("CREATE TABLE {} (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, note text)", "pz_later")
    try:
        as_runtime.execute("INSERT INTO pz_later (note) VALUES ('new table')")
        assert as_runtime.execute("SELECT note FROM pz_later").fetchall() == [("new table",)]
        assert "permission denied" in refused(as_runtime, "TRUNCATE pz_later")
    finally:
        owner_execute("DROP TABLE {}", "pz_later")


def test_the_runtime_role_cannot_record_migrations_or_create_tables(as_runtime):
    assert as_runtime.execute("SELECT count(*) FROM django_migrations").fetchone()[0] > 0
    assert "permission denied" in refused(
        as_runtime, "INSERT INTO django_migrations (app, name, applied) VALUES ('x', 'y', now())"
    )
    assert "permission denied for schema" in refused(as_runtime, "CREATE TABLE pz_mine (id int)")


def test_even_the_owner_cannot_truncate_the_audit_trail():
    audit_record(action="test.kept", actor_label="owner")
    for statement in ("TRUNCATE audit_auditevent", "DELETE FROM audit_auditevent"):
        with (
            pytest.raises(DatabaseError, match="audit events are append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    assert AuditEvent.objects.count() == 1


def test_granting_again_changes_nothing(runtime_role):
    def privileges():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT table_name, string_agg(privilege_type, ',' ORDER BY privilege_type)"
                " FROM information_schema.role_table_grants WHERE grantee = %s GROUP BY 1 ORDER BY 1",
                [runtime_role],
            )
            return cursor.fetchall()

    before = privileges()
    out = StringIO()
    call_command("db_grant_runtime_role", runtime_role, stdout=out)
    assert privileges() == before
    assert dict(before)[AUDIT] == "INSERT,SELECT"
    assert dict(before)["django_migrations"] == "SELECT"
    assert dict(before)["django_session"] == "DELETE,INSERT,SELECT,UPDATE"
    assert "on audit_auditevent only INSERT, SELECT; it owns nothing" in out.getvalue()


def test_it_refuses_a_superuser_an_unknown_role_and_the_owner_itself(make_role):
    with pytest.raises(CommandError, match="is a superuser"):
        call_command("db_grant_runtime_role", make_role(superuser=True))
    with pytest.raises(CommandError, match="There is no role 'pz_nobody'"):
        call_command("db_grant_runtime_role", "pz_nobody")
    with pytest.raises(CommandError, match="is the role this command connects as"):
        call_command("db_grant_runtime_role", connection.settings_dict["USER"])


def test_a_role_that_owns_a_table_is_refused_until_its_tables_are_handed_to_the_owner(make_role):
    role = make_role()
    owner_execute("CREATE TABLE {} (id int)", "pz_owned")
    owner_execute("ALTER TABLE {} OWNER TO {}", "pz_owned", role)
    try:
        with pytest.raises(CommandError, match="owns, or may act as the owner of: table pz_owned"):
            call_command("db_grant_runtime_role", role)

        call_command("db_grant_runtime_role", role, "--reassign-owned", stdout=StringIO())

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'pz_owned'")
            assert cursor.fetchone() == (connection.settings_dict["USER"],)
    finally:
        owner_execute("DROP TABLE IF EXISTS {}", "pz_owned")


def test_migrations_run_as_the_owner_and_the_portal_runs_as_the_runtime_role(make_role):
    """A fresh database as in production: migrate with DATABASE_OWNER_URL, grant, run as DATABASE_URL."""
    role = make_role()
    dbname = f"pz_test_roles_{uuid.uuid4().hex[:8]}"
    owner_execute("CREATE DATABASE {}", dbname)
    owner_url = database_url({**connection.settings_dict, "NAME": dbname})
    runtime_url = database_url({**connection.settings_dict, "NAME": dbname, "USER": role, "PASSWORD": ""})
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))},
        "DATABASE_URL": runtime_url,
        "DATABASE_OWNER_URL": owner_url,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
    }

    def manage(*args):
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )

    try:
        assert "permission denied" in manage("migrate", "--noinput").stderr  # the runtime role creates nothing
        migrated = manage("migrate", "--database", "owner", "--noinput")
        assert migrated.returncode == 0, migrated.stderr
        granted = manage("db_grant_runtime_role", role)
        assert granted.returncode == 0, granted.stderr
        check = manage(
            "shell",
            "-c",
            "from django.contrib.auth.models import Group; from portal.audit.services import audit_record;"
            "audit_record(action='runtime.works');"
            "print(Group.objects.filter(name='backoffice', permissions__codename='view_report').count())",
        )
        assert check.returncode == 0, check.stderr
        assert check.stdout.strip().endswith("1")  # data migration and post_migrate ran as the owner
    finally:
        owner_execute("DROP DATABASE IF EXISTS {} WITH (FORCE)", dbname)
        owner_execute("DROP OWNED BY {}", role)
