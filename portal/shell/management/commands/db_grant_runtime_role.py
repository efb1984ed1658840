"""Give the runtime database role exactly what the running portal needs, and nothing to rewrite history with.

Run it as the owner of the tables (the `owner` database alias, DATABASE_OWNER_URL), after every
`migrate --database owner`; it is idempotent. The runtime role gets:

- USAGE on the schema (not CREATE), and CONNECT on the database;
- SELECT, INSERT, UPDATE, DELETE on every table, USAGE and SELECT on every sequence, and the same
  on tables and sequences the owner creates later (ALTER DEFAULT PRIVILEGES);
- only SELECT on django_migrations, and only INSERT and SELECT on the audit trail;
- never TRUNCATE, REFERENCES or TRIGGER, never ownership of anything.

Because the runtime role owns nothing, it can neither disable nor drop the audit table's triggers
(only an owner may ALTER or DROP), and TRUNCATE is refused by the table's statement trigger anyway.
The command refuses a role that is a superuser, is the owner itself, or owns (or may act as the
owner of) the schema, the database or any table in it; `--reassign-owned` first hands what the
role owns directly to the owner (REASSIGN OWNED, for a deployment that ran on one role until now).
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import connections, transaction
from psycopg import sql

from portal.audit.models import AuditEvent

TABLE_DML = "SELECT, INSERT, UPDATE, DELETE"
AUDIT_ONLY = "INSERT, SELECT"
FORBIDDEN_ON_AUDIT = ("UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")


class Command(BaseCommand):
    help = (
        "Grant the runtime PostgreSQL role DML on the portal's tables and sequences (also future ones), "
        "only INSERT and SELECT on the audit trail, and no ownership. Run as the owner after migrating."
    )

    def add_arguments(self, parser):
        parser.add_argument("role", help="the runtime role (the user in DATABASE_URL)")
        parser.add_argument(
            "--database",
            default=None,
            help="the owner's connection alias (default: 'owner' when DATABASE_OWNER_URL is set, else 'default')",
        )
        parser.add_argument(
            "--reassign-owned",
            action="store_true",
            help="first hand everything the role owns in this database to the owner (REASSIGN OWNED BY)",
        )

    def handle(self, *, role, database, reassign_owned, **options):
        alias = database or ("owner" if "owner" in connections.settings else "default")
        connection = connections[alias]
        if connection.vendor != "postgresql":
            raise CommandError(f"The '{alias}' database is {connection.vendor}; roles exist only on PostgreSQL.")
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user, current_schema(), current_database()")
            owner, schema, dbname = cursor.fetchone()
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [role])
            row = cursor.fetchone()
        if row is None:
            raise CommandError(f"There is no role '{role}'. Create it first: CREATE ROLE ... LOGIN PASSWORD '...'.")
        if role == owner:
            raise CommandError(f"'{role}' is the role this command connects as (the owner); name the runtime role.")
        if row[0]:
            raise CommandError(f"'{role}' is a superuser: it passes every privilege check and may disable triggers.")

        q = _Quoter(connection, role=role, owner=owner, schema=schema, dbname=dbname)
        if reassign_owned:
            with transaction.atomic(using=alias), connection.cursor() as cursor:
                cursor.execute(q("REASSIGN OWNED BY {role} TO {owner}"))
        owned = _owned_by(connection, role=role, schema=schema)
        if owned:
            raise CommandError(
                f"'{role}' owns, or may act as the owner of: {', '.join(owned[:20])}"
                + (f" and {len(owned) - 20} more" if len(owned) > 20 else "")
                + ". Run again with --reassign-owned, or revoke the owner role from it (REVOKE owner FROM runtime)."
            )

        audit = AuditEvent._meta.db_table
        statements = [
            "GRANT CONNECT ON DATABASE {dbname} TO {role}",
            "REVOKE CREATE ON SCHEMA {schema} FROM {role}",
            "GRANT USAGE ON SCHEMA {schema} TO {role}",
            # Start from nothing, so that running it again converges to exactly this list.
            "REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {role}",
            "REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {role}",
            f"GRANT {TABLE_DML} ON ALL TABLES IN SCHEMA {{schema}} TO {{role}}",
            "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
            "REVOKE INSERT, UPDATE, DELETE ON {migrations} FROM {role}",
            "REVOKE UPDATE, DELETE ON {audit} FROM {role}",
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {{owner}} IN SCHEMA {{schema}} GRANT {TABLE_DML} ON TABLES TO {{role}}",
            "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema} GRANT USAGE, SELECT ON SEQUENCES TO {role}",
        ]
        with transaction.atomic(using=alias), connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(q(statement, migrations="django_migrations", audit=audit))

        left = _audit_privileges(connection, role=role, table=f"{schema}.{audit}")
        if left:
            raise CommandError(
                f"'{role}' still holds {', '.join(left)} on {audit} through grants this command cannot revoke "
                "(to PUBLIC, or by another grantor); revoke them as their grantor."
            )
        with connection.cursor() as cursor:
            cursor.execute("SELECT has_schema_privilege(%s, %s, 'CREATE')", [role, schema])
            if cursor.fetchone()[0]:
                self.stderr.write(
                    self.style.WARNING(
                        f"'{role}' may still create objects in schema {schema} (granted to PUBLIC before "
                        f"PostgreSQL 15?): REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC if nothing needs it."
                    )
                )
            cursor.execute(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND has_table_privilege(%s, c.oid, 'INSERT')",
                [schema, role],
            )
            tables = cursor.fetchone()[0]
        self.stdout.write(
            self.style.SUCCESS(
                f"'{role}' may read and write {tables} tables in schema {schema} (and future ones created by "
                f"{owner}); on {audit} only {AUDIT_ONLY}; it owns nothing."
            )
        )


class _Quoter:
    """Statements with identifiers quoted by psycopg, never pasted in as they came."""

    def __init__(self, connection, **identifiers):
        self.connection = connection
        self.identifiers = identifiers

    def __call__(self, statement: str, **more) -> str:
        names = {key: sql.Identifier(value) for key, value in {**self.identifiers, **more}.items()}
        connection = self.connection
        connection.ensure_connection()
        return sql.SQL(statement).format(**names).as_string(connection.connection)


def _owned_by(connection, *, role: str, schema: str) -> list[str]:
    """The schema, database and relations that `role` owns or may become the owner of (SET ROLE)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT 'schema ' || n.nspname FROM pg_namespace n
             WHERE n.nspname = %(schema)s AND pg_has_role(%(role)s, n.nspowner, 'MEMBER')
            UNION ALL
            SELECT 'database ' || d.datname FROM pg_database d
             WHERE d.datname = current_database() AND pg_has_role(%(role)s, d.datdba, 'MEMBER')
            UNION ALL
            SELECT 'table ' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
               AND pg_has_role(%(role)s, c.relowner, 'MEMBER')
            UNION ALL
            SELECT 'function ' || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = %(schema)s AND pg_has_role(%(role)s, p.proowner, 'MEMBER')
            ORDER BY 1
            """,
            {"schema": schema, "role": role},
        )
        return [row[0] for row in cursor.fetchall()]


def _audit_privileges(connection, *, role: str, table: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT privilege FROM unnest(%s::text[]) AS privilege WHERE has_table_privilege(%s, %s, privilege)",
            [list(FORBIDDEN_ON_AUDIT), role, table],
        )
        return [row[0] for row in cursor.fetchall()]
